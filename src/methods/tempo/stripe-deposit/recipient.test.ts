import type { TransactionReceipt } from 'viem'
import { describe, expect, it } from 'vitest'
import type { RouteConfig, StripeDepositConfig } from '../../../config/types.js'
import { createMemoryStore } from '../../../store/memory.js'
import { silentLogger } from '../../../log/logger.js'
import { createCryptoRecorder, CRYPTO_RECORD_QUEUE } from './recorder.js'
import type { CryptoRecord, DepositIntent, StripeCrypto } from './stripe-crypto.js'
import { BackendUnavailable, PaymentRefused, type SettleInput } from '../../../core/method.js'
import type { TempoRpc } from '../rpc.js'
import { createDepositRecipient } from './recipient.js'

// The Stripe side of the deposit rail behind its narrow StripeCrypto edge; the HTTP shapes are
// pinned in crypto against the fake Stripe by test/integration/stripe-deposit.test.ts.

const ADDRESS = '0x1111111111111111111111111111111111111111'
const TOKEN = '0x20C0000000000000000000000000000000000000'
const HASH = `0x${'ab'.repeat(32)}`
const NOW = 1_800_000_000_000
const route = { match: 'GET /v1/cheap' } as RouteConfig
const quoted = { amount: '500000', currency: TOKEN, methodDetails: { chainId: 42431 } }
const receipt = { transactionHash: HASH, blockNumber: 7n } as unknown as TransactionReceipt

function fakeCrypto(intent: Partial<DepositIntent> = {}) {
  const records: CryptoRecord[] = []
  const calls: string[] = []
  let failRecords = 0
  const crypto: StripeCrypto = {
    async findOrCreateDepositAddress() {
      calls.push('address')
      return { address: ADDRESS, tokens: [TOKEN] }
    },
    async createDepositIntent(_network, amount) {
      calls.push(`create ${amount}`)
      return {
        id: 'pi_1',
        status: 'requires_action',
        amount,
        currency: 'usd',
        deposit: { address: ADDRESS, tokens: [TOKEN] },
      }
    },
    async retrieveIntent(id) {
      calls.push(`retrieve ${id}`)
      return { id, status: 'succeeded', amount: 50, currency: 'usd', ...intent }
    },
    async recordTransaction(_network, record) {
      calls.push('record')
      if (failRecords > 0) {
        failRecords--
        throw new BackendUnavailable('stripe', 'Could not reach Stripe.')
      }
      records.push(record)
      return { id: 'pi_rec', status: 'succeeded', replayed: false }
    },
  }
  return { crypto, records, calls, failNext: (n: number) => (failRecords = n) }
}

const rpc = { blockTime: async () => Math.floor((NOW - 60_000) / 1000) } as unknown as TempoRpc
const settleInput = (bound: Record<string, string> = { paymentIntent: 'pi_1' }): SettleInput =>
  ({
    challengeId: 'ch_1',
    realm: 'api.example.com',
    route,
    request: { ...quoted, recipient: ADDRESS },
    bound,
    payload: {},
    expiresAtMs: NOW,
    claimOnce: async () => true,
    release: async () => {},
    settling: async () => {},
  }) as SettleInput

function perPayment(intent: Partial<DepositIntent>, grace = 120_000) {
  const fake = fakeCrypto(intent)
  const config: StripeDepositConfig = { shape: 'per-payment', processingGraceMs: grace, recordRetryMs: 30_000 }
  const recipient = createDepositRecipient({
    config,
    crypto: fake.crypto,
    rpc,
    now: () => NOW,
    realm: 'api.example.com',
    sleep: async () => {},
  })
  return { recipient, fake }
}

describe('per-payment deposit recipient', () => {
  it('issues the intent address and Stripe token, binding the intent id, for the price in cents', async () => {
    const { recipient, fake } = perPayment({})
    expect(await recipient.issue(quoted, route)).toEqual({
      request: { ...quoted, recipient: ADDRESS, currency: TOKEN },
      bound: { paymentIntent: 'pi_1' },
    })
    expect(fake.calls).toEqual(['create 50'])
  })

  it('accepts a succeeded intent, and a processing one within the grace after the transfer', async () => {
    await expect(
      perPayment({ status: 'succeeded' }).recipient.confirm(settleInput(), receipt, 500_000n),
    ).resolves.toBeUndefined()
    await expect(
      perPayment({ status: 'processing' }, 120_000).recipient.confirm(settleInput(), receipt, 500_000n),
    ).resolves.toBeUndefined()
  })

  it('does not serve a deposit Stripe has been processing for longer than the grace', async () => {
    const error = await perPayment({ status: 'processing' }, 30_000)
      .recipient.confirm(settleInput(), receipt, 500_000n)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BackendUnavailable)
    expect((error as Error).message).toContain('longer than 30 s')
  })

  it('waits a little for Stripe to notice the deposit, then answers 503 so the same credential can come back', async () => {
    const { recipient, fake } = perPayment({ status: 'requires_action' })
    await expect(recipient.confirm(settleInput(), receipt, 500_000n)).rejects.toBeInstanceOf(BackendUnavailable)
    expect(fake.calls.filter((c) => c.startsWith('retrieve'))).toHaveLength(4)
  })

  it('refuses a canceled intent and an intent for another amount', async () => {
    const canceled = await perPayment({ status: 'canceled' })
      .recipient.confirm(settleInput(), receipt, 500_000n)
      .catch((e: unknown) => e)
    expect(canceled).toBeInstanceOf(PaymentRefused)
    expect((canceled as PaymentRefused).detail).toContain('canceled')
    const other = await perPayment({ amount: 49 })
      .recipient.confirm(settleInput(), receipt, 500_000n)
      .catch((e: unknown) => e)
    expect((other as PaymentRefused).problem).toBe('verification-failed')
  })

  it('refuses a challenge that names no PaymentIntent before anything is checked', async () => {
    const error = await perPayment({})
      .recipient.precheck(settleInput({}))
      .catch((e: unknown) => e)
    expect((error as PaymentRefused).problem).toBe('invalid-challenge')
  })
})

describe('reusable deposit recipient and its recorder', () => {
  function reusable() {
    const fake = fakeCrypto()
    const store = createMemoryStore()
    const errors: string[] = []
    const recorder = createCryptoRecorder({
      crypto: fake.crypto,
      network: 'tempo',
      store,
      logger: silentLogger,
      onBackendError: (b) => errors.push(b),
    })
    const config: StripeDepositConfig = { shape: 'reusable', processingGraceMs: 0, recordRetryMs: 30_000 }
    const recipient = createDepositRecipient({
      config,
      crypto: fake.crypto,
      recorder,
      rpc,
      now: () => NOW,
      realm: 'api.example.com',
    })
    return { recipient, recorder, fake, store, errors }
  }
  const settled = () => new Promise((r) => setTimeout(r, 10))

  it('asks Stripe for the address once, whatever the number of 402s', async () => {
    const { recipient, fake } = reusable()
    await recipient.issue(quoted, route)
    await recipient.issue(quoted, route)
    expect(fake.calls).toEqual(['address'])
  })

  it('refuses a challenge issued for another recipient (the config changed since)', async () => {
    const { recipient } = reusable()
    const input = {
      ...settleInput({}),
      request: { ...quoted, recipient: '0x2222222222222222222222222222222222222222' },
    }
    expect(((await recipient.precheck(input).catch((e: unknown) => e)) as PaymentRefused).problem).toBe(
      'invalid-challenge',
    )
  })

  it('records the payment in cents, keyed by transaction hash, and clears it from the store', async () => {
    const { recipient, fake, store } = reusable()
    await recipient.confirm(settleInput({}), receipt, 500_000n)
    await settled()
    expect(fake.records).toEqual([
      {
        transactionHash: HASH,
        amount: 50,
        metadata: { mpp_challenge_id: 'ch_1', mpp_realm: 'api.example.com', mpp_intent: 'charge' },
      },
    ])
    expect(await store.listPending(CRYPTO_RECORD_QUEUE)).toEqual([])
  })

  it('keeps a failed record in the store, counts the failure and sends it again on retry', async () => {
    const { recipient, recorder, fake, store, errors } = reusable()
    fake.failNext(2)
    await recipient.confirm(settleInput({}), receipt, 500_000n)
    await settled()
    await recorder.retryPending()
    expect(fake.records).toEqual([])
    expect(errors).toEqual(['stripe', 'stripe'])
    expect((await store.listPending(CRYPTO_RECORD_QUEUE)).map((p) => p.id)).toEqual([HASH])
    await recorder.retryPending()
    expect(fake.records).toHaveLength(1)
    expect(await store.listPending(CRYPTO_RECORD_QUEUE)).toEqual([])
  })

  it('backs off a record that keeps failing: doubling from recordRetry', async () => {
    const fake = fakeCrypto()
    let now = 0
    const recorder = createCryptoRecorder({
      crypto: fake.crypto,
      network: 'tempo',
      store: createMemoryStore(),
      logger: silentLogger,
      onBackendError: () => {},
      retryMs: 1000,
      now: () => now,
    })
    recorder.close() // drive the passes by hand
    fake.failNext(3)
    await recorder.record({ transactionHash: HASH, amount: 50, metadata: {} })
    await settled()
    const sends = () => fake.calls.filter((c) => c === 'record').length
    expect(sends()).toBe(1)
    // failed at 0: due at 1000; failed again at 1000: due at 1000 + 2000
    for (const [at, expected] of [
      [999, 1],
      [1000, 2],
      [2999, 2],
      [3000, 3],
    ] as const) {
      now = at
      await recorder.retryPending({ dueOnly: true })
      expect(sends(), `sends by ${at} ms`).toBe(expected)
    }
    await recorder.retryPending()
    expect(fake.records).toHaveLength(1)
  })

  it('fails the settlement when the store cannot keep the record (nothing is served unrecorded)', async () => {
    const { fake } = reusable()
    const store = createMemoryStore()
    store.addPending = async () => {
      throw new Error('Redis down')
    }
    const recorder = createCryptoRecorder({
      crypto: fake.crypto,
      network: 'tempo',
      store,
      logger: silentLogger,
      onBackendError: () => {},
    })
    const config: StripeDepositConfig = { shape: 'reusable', processingGraceMs: 0, recordRetryMs: 30_000 }
    const recipient = createDepositRecipient({
      config,
      crypto: fake.crypto,
      recorder,
      rpc,
      now: () => NOW,
      realm: 'api.example.com',
    })
    await expect(recipient.confirm(settleInput({}), receipt, 500_000n)).rejects.toThrow('Redis down')
    expect(fake.calls).not.toContain('record')
  })
})
