import { describe, expect, it } from 'vitest'
import type { RouteConfig } from '../config/types.js'
import { silentLogger } from '../log/logger.js'
import { BackendUnavailable, PaymentRefused, type PaymentMethod, type SettleInput } from './method.js'
import { encodeJson } from '../protocol/challenge.js'
import { createMemoryStore } from '../store/memory.js'
import { StoreUnavailable } from '../store/types.js'
import { settlePayment } from './settle.js'
import { SettlementAttempt } from './settlement.js'
import type { BeginRequest } from './settlement-record.js'

const request = { amount: '500', currency: 'usd' }
const challenge = {
  id: 'ch_1',
  realm: 'r',
  method: 'tempo',
  intent: 'charge',
  request: encodeJson(request),
  opaque: encodeJson({ route: 'GET /a' }),
}

function settleWith(settle: (input: SettleInput) => Promise<{ reference: string }>) {
  const store = createMemoryStore()
  const method = { name: 'tempo', quote: () => ({ ok: false, reason: '' }), settle } as PaymentMethod
  const expiresAtMs = Date.now() + 60_000
  const attempt = new SettlementAttempt(store, Date.now, {
    id: challenge.id,
    fingerprint: 'fp',
    method: 'tempo',
    settleLeaseMs: 10_000,
    forwardLeaseMs: 10_000,
    keepUntil: expiresAtMs,
  })
  const run = async () => {
    expect(await attempt.begin({ issuedAt: Date.now(), expired: false })).toStrictEqual({ kind: 'claimed' })
    return settlePayment(store, attempt, silentLogger, {
      offer: { method, intent: 'charge', request, encodedRequest: encodeJson(request) },
      route: { match: 'GET /a' } as RouteConfig,
      realm: 'r',
      credential: { challenge, payload: { type: 'hash', hash: '0x1' }, source: 'did:pkh:eip155:1:0xabc' },
      request,
      bound: { paymentIntent: 'pi_1' },
      expiresAtMs,
    })
  }
  return { store, run, attempt }
}

/** Another presentation of the same credential (fingerprint "fp"), as `begin` gets it. */
function presentation(attempt: string, over: Partial<BeginRequest> = {}): BeginRequest {
  const now = Date.now()
  return {
    id: 'ch_1',
    fingerprint: 'fp',
    attempt,
    method: 'tempo',
    now,
    leaseUntil: now + 1_000,
    forwardLeaseUntil: now + 1_000,
    keepUntil: now + 60_000,
    issuedAt: now,
    expired: false,
    ...over,
  }
}

describe('settlePayment', () => {
  it('hands the method the verified request, its payload and bound fields, and keeps its claims on success', async () => {
    let seen: SettleInput | undefined
    const { store, run } = settleWith(async (input) => {
      seen = input
      await input.claimOnce('tx:0x1', Date.now() + 60_000)
      return { reference: '0x1' }
    })
    expect(await run()).toStrictEqual({ ok: true, settlement: { reference: '0x1' } })
    expect(seen).toMatchObject({
      challengeId: 'ch_1',
      realm: 'r',
      request,
      bound: { paymentIntent: 'pi_1' },
      payload: { type: 'hash', hash: '0x1' },
      source: 'did:pkh:eip155:1:0xabc',
    })
    expect(store.claimCount()).toBe(2)
  })

  it.each([
    [
      'a refusal',
      new PaymentRefused('verification-failed', 'bad signature'),
      { kind: 'refused', problem: 'verification-failed', detail: 'bad signature' },
    ],
    [
      'a backend outage',
      new BackendUnavailable('tempo-rpc', 'The RPC timed out.'),
      { kind: 'backend', backend: 'tempo-rpc', detail: 'The RPC timed out.' },
    ],
    ['a store outage', new StoreUnavailable('down'), { kind: 'store' }],
    ['anything else', new RangeError('bug'), { kind: 'unexpected' }],
  ])(
    'maps %s before any money moved to its failure, and forgets the record and every claim',
    async (_, error, failure) => {
      const { store, run } = settleWith(async (input) => {
        await input.claimOnce('tx:0x1', Date.now() + 60_000)
        throw error
      })
      expect(await run()).toStrictEqual({ ok: false, failure })
      expect(store.claimCount()).toBe(0)
    },
  )

  it.each([
    ['a backend outage', new BackendUnavailable('tempo-rpc', 'The RPC timed out.')],
    ['a store outage', new StoreUnavailable('down')],
    ['anything else', new RangeError('bug')],
  ])('keeps the record (given up at once) and its claims after %s once money may have moved', async (_, error) => {
    const { store, run } = settleWith(async (input) => {
      await input.claimOnce('tx:0x1', Date.now() + 60_000)
      await input.settling({ txHash: '0x1' })
      throw error
    })
    expect((await run()).ok).toBe(false)
    expect(store.claimCount()).toBe(2)
    const again = await store.begin(presentation('retry', { expired: true }))
    expect(again).toStrictEqual({ kind: 'redrive', handle: { txHash: '0x1' } })
  })

  it('forgets the record after a refusal, even once money may have moved (the backend said no)', async () => {
    const { store, run } = settleWith(async (input) => {
      await input.settling({ txHash: '0x1' })
      throw new PaymentRefused('verification-failed', 'reverted')
    })
    expect(await run()).toMatchObject({ ok: false, failure: { kind: 'refused' } })
    expect(store.claimCount()).toBe(0)
  })

  it('stops before the backend call when another request took the settlement over', async () => {
    let sent = false
    const { store, run } = settleWith(async (input) => {
      await store.begin(presentation('other'))
      await input.settling({ txHash: '0x1' })
      sent = true
      return { reference: '0x1' }
    })
    expect(await run()).toStrictEqual({ ok: false, failure: { kind: 'taken-over' } })
    expect(sent).toBe(false)
    expect(store.claimCount()).toBe(1) // the other request's record
  })
})
