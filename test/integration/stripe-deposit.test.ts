import { Receipt as MppxReceipt } from 'mppx'
import { getAddress, type Hex } from 'viem'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { transfersFromLogs } from '../../src/methods/tempo/receipt-logs.js'
import { CRYPTO_RECORD_QUEUE } from '../../src/methods/tempo/stripe-deposit/recorder.js'
import { type FakeStripe, startFakeStripe } from '../support/fake-stripe.js'
import { STRIPE_TEST_KEY, type TestGateway, startTestGateway } from '../support/gateway.js'
import { type RawResponse, request } from '../support/http.js'
import { authorizationFor, challengeFor, challengesOf, problemOf, problemType } from '../support/pay.js'
import { SHARED_REDIS_URL } from '../support/redis-server.js'
import { PATH_USD, startTempoNode, type TempoNode } from '../support/tempo-node.js'
import { tempoPayer } from '../support/tempo-payer.js'
import { accounts } from '../support/tempo-tx.js'
import { type TestUpstream, startUpstream } from '../support/upstream.js'

// The payee has no wallet: the payer sends pathUSD on Tempo to a Stripe deposit address and the
// money lands in the Stripe balance (research/stripe.md §4). The fake Stripe "watches the chain"
// through the Tempo stand-in, as Stripe watches the real one.

const USD = (text: string) => BigInt(Math.round(Number(text) * 1e6))
const ROUTES = [
  { match: 'GET /v1/cheap', price: '0.50', methods: ['tempo'] },
  { match: 'GET /v1/both', price: '1.25' },
]

let node: TempoNode
let stripe: FakeStripe
let upstream: TestUpstream
let reusable: TestGateway
let perPayment: TestGateway
/** what Stripe makes of a deposit it sees on chain; undefined: it does not notice it (yet) */
let stripeSeesDepositsAs: 'succeeded' | 'processing' | undefined

const tempoBlock = (recipient: Record<string, unknown>) => ({
  rpcUrl: node.rpcUrl('gateway'),
  chainId: 42431,
  recipient,
  timeout: '1s',
})

beforeAll(async () => {
  node = await startTempoNode()
  stripe = await startFakeStripe()
  upstream = await startUpstream()
  node.onInclude((receipt) => {
    for (const transfer of transfersFromLogs(receipt.logs)) {
      const intent = stripe.depositIntentFor(transfer.to)
      if (intent?.status === 'requires_action' && stripeSeesDepositsAs)
        stripe.simulateCryptoDeposit(intent.id, receipt.transactionHash, stripeSeesDepositsAs)
    }
  })
  reusable = await startTestGateway({
    upstreamUrl: upstream.url,
    stripeUrl: stripe.url,
    storeUrl: SHARED_REDIS_URL,
    routes: ROUTES,
    tempo: tempoBlock({ stripeDeposit: 'reusable', recordRetry: '200ms' }),
  })
  perPayment = await startTestGateway({
    upstreamUrl: upstream.url,
    stripeUrl: stripe.url,
    storeUrl: SHARED_REDIS_URL,
    routes: ROUTES,
    tempo: tempoBlock({ stripeDeposit: 'per-payment' }),
  })
})
afterAll(async () => {
  await perPayment?.close()
  await reusable?.close()
  await upstream?.close()
  await stripe?.close()
  await node?.close()
})
beforeEach(() => {
  stripeSeesDepositsAs = 'succeeded'
  stripe.faults.down = false
  stripe.faults.delayMs = 0
  node.reset()
  node.setBalance(PATH_USD, accounts.payer.address, USD('100'))
})

const requestOf = (res: RawResponse) =>
  JSON.parse(Buffer.from(challengeFor(res, 'tempo').request, 'base64url').toString()) as {
    amount: string
    currency: string
    recipient: string
  }
const opaqueOf = (res: RawResponse) =>
  JSON.parse(Buffer.from(challengeFor(res, 'tempo').opaque!, 'base64url').toString()) as Record<string, string>
const stripeCalls = (path: string, method = 'POST') =>
  stripe.requests.filter((r) => r.path === path && r.method === method)
const depositIntentsCreated = () =>
  stripeCalls('/v1/payment_intents').filter((r) => r.form['payment_method_options[crypto][mode]'] === 'deposit')
const balance = (address: string) => node.balanceOf(PATH_USD, address as Hex)

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('reusable: one Stripe deposit address, payments recorded by transaction hash', () => {
  it('finds or creates the deposit address once and offers it as the tempo recipient with its token', async () => {
    const first = await request(`${reusable.url}/v1/cheap`)
    expect(first.status).toBe(402)
    const [address] = [...stripe.depositAddresses.values()]
    expect(address).toBeDefined()
    expect(requestOf(first)).toEqual({
      amount: '500000',
      currency: getAddress(PATH_USD),
      recipient: getAddress(address!.address),
      methodDetails: { chainId: 42431 },
    })
    const second = await request(`${reusable.url}/v1/cheap`)
    expect(requestOf(second).recipient).toBe(getAddress(address!.address))
    // cached: one lookup and one creation, whatever the number of 402s
    expect(stripeCalls('/v1/crypto/deposit_addresses', 'GET')).toHaveLength(1)
    expect(stripeCalls('/v1/crypto/deposit_addresses')).toHaveLength(1)
    expect(
      stripe.requests.filter((r) => r.path.startsWith('/v1/crypto/')).map((r) => r.headers['stripe-version']),
    ).toEqual(['2026-07-29.preview', '2026-07-29.preview'])
    // a route that leaves methods open offers both rails
    expect(challengesOf(await request(`${reusable.url}/v1/both`)).map((c) => c.method)).toEqual(['stripe', 'tempo'])
  })

  it.each(['pull', 'push'] as const)(
    '%s: mppx pays the deposit address; Stripe gets exactly one record of the transaction',
    async (mode) => {
      const res = await tempoPayer(node, accounts.payer, mode).fetch(`${reusable.url}/v1/cheap`)
      expect(res.status, await res.clone().text()).toBe(200)
      const hash = MppxReceipt.deserialize(res.headers.get('payment-receipt')!).reference
      const address = [...stripe.depositAddresses.values()][0]!.address
      expect(node.receipt(hash as Hex)).toBeDefined()
      await eventually(() => stripe.cryptoRecords(hash).length > 0)
      const [record] = stripe.cryptoRecords(hash)
      expect(record).toMatchObject({
        amount: 50,
        currency: 'usd',
        status: 'succeeded',
        payment_method_options: {
          crypto: {
            mode: 'transaction_verification',
            transaction_verification_options: { network: 'tempo', transaction_hash: hash },
          },
        },
      })
      const sent = stripeCalls('/v1/payment_intents').filter(
        (r) => r.form['payment_method_options[crypto][transaction_verification_options][transaction_hash]'] === hash,
      )
      expect(sent.map((r) => r.headers['idempotency-key'])).toEqual([hash])
      expect(sent[0]!.form).toMatchObject({
        'payment_method_types[0]': 'crypto',
        'payment_method_data[type]': 'crypto',
        confirm: 'true',
      })
      expect(balance(address)).toBeGreaterThanOrEqual(USD('0.50'))
      expect(await reusable.gateway.store.listPending(CRYPTO_RECORD_QUEUE)).toEqual([])
    },
  )

  it('a transaction pays once: presenting its hash for a new challenge is refused', async () => {
    const payer = tempoPayer(node, accounts.payer, 'push')
    const paid = await payer.fetch(`${reusable.url}/v1/cheap`)
    const hash = MppxReceipt.deserialize(paid.headers.get('payment-receipt')!).reference
    const fresh = challengeFor(await request(`${reusable.url}/v1/cheap`), 'tempo')
    const again = await request(`${reusable.url}/v1/cheap`, {
      headers: { authorization: authorizationFor(fresh, { type: 'hash', hash }) },
    })
    expect(again.status).toBe(402)
    expect(problemOf(again).type).toBe(problemType('verification-failed'))
  })

  it('Stripe down while recording: the payer is served, the record waits in Redis and lands exactly once when Stripe is back', async () => {
    await request(`${reusable.url}/v1/cheap`) // the deposit address is known before Stripe goes down
    stripe.faults.down = true
    const res = await tempoPayer(node, accounts.payer, 'pull').fetch(`${reusable.url}/v1/cheap`)
    expect(res.status).toBe(200)
    expect(upstream.requests.at(-1)?.url).toBe('/v1/cheap')
    const hash = MppxReceipt.deserialize(res.headers.get('payment-receipt')!).reference
    await eventually(() =>
      reusable.logs.some((line) => line.includes('payment not yet recorded in Stripe') && line.includes(hash)),
    )
    await new Promise((r) => setTimeout(r, 500)) // several retries, all failing
    expect(stripe.cryptoRecords(hash)).toEqual([])
    expect((await reusable.gateway.store.listPending(CRYPTO_RECORD_QUEUE)).map((p) => p.id)).toEqual([hash])
    expect((await request(`${reusable.adminUrl}/__gateway/metrics`)).body).toMatch(
      /mpp_backend_errors_total\{backend="stripe"\} [1-9]/,
    )
    expect(reusable.logs.join('\n')).not.toContain(STRIPE_TEST_KEY)

    stripe.faults.down = false
    await eventually(() => stripe.cryptoRecords(hash).length > 0)
    await eventually(async () => (await reusable.gateway.store.listPending(CRYPTO_RECORD_QUEUE)).length === 0)
    await new Promise((r) => setTimeout(r, 500)) // more retry rounds: nothing is sent twice
    expect(stripe.cryptoRecords(hash)).toHaveLength(1)
  })

  it('a record left pending by a stopped gateway is sent by the next one on the same Redis', async () => {
    const keyPrefix = `test:deposit:${process.pid}:${Math.random().toString(36).slice(2)}:`
    const options = {
      upstreamUrl: upstream.url,
      stripeUrl: stripe.url,
      storeUrl: SHARED_REDIS_URL,
      keyPrefix,
      routes: ROUTES,
    }
    const first = await startTestGateway({
      ...options,
      tempo: tempoBlock({ stripeDeposit: 'reusable', recordRetry: '1h' }),
    })
    let hash: string
    try {
      await request(`${first.url}/v1/cheap`)
      stripe.faults.down = true
      const res = await tempoPayer(node, accounts.payer, 'push').fetch(`${first.url}/v1/cheap`)
      expect(res.status).toBe(200)
      hash = MppxReceipt.deserialize(res.headers.get('payment-receipt')!).reference
      await eventually(() => first.logs.some((line) => line.includes('payment not yet recorded in Stripe')))
    } finally {
      await first.close()
    }
    stripe.faults.down = false
    const next = await startTestGateway({
      ...options,
      tempo: tempoBlock({ stripeDeposit: 'reusable', recordRetry: '100ms' }),
    })
    try {
      await eventually(() => stripe.cryptoRecords(hash).length > 0)
      await eventually(async () => (await next.gateway.store.listPending(CRYPTO_RECORD_QUEUE)).length === 0)
      expect(stripe.cryptoRecords(hash)).toHaveLength(1)
    } finally {
      await next.close()
    }
  })

  it('Stripe records but the answer is lost: the retry replays under the hash key, still one record', async () => {
    await request(`${reusable.url}/v1/cheap`)
    stripe.faults.delayMs = 1500 // longer than the gateway's 1 s Stripe timeout; Stripe executes anyway
    const res = await tempoPayer(node, accounts.payer, 'pull').fetch(`${reusable.url}/v1/cheap`)
    expect(res.status).toBe(200)
    const hash = MppxReceipt.deserialize(res.headers.get('payment-receipt')!).reference
    await eventually(() => stripe.cryptoRecords(hash).length > 0)
    stripe.faults.delayMs = 0
    await eventually(async () => (await reusable.gateway.store.listPending(CRYPTO_RECORD_QUEUE)).length === 0)
    expect(stripe.cryptoRecords(hash)).toHaveLength(1)
    expect(stripe.requests.filter((r) => r.headers['idempotency-key'] === hash).length).toBeGreaterThan(1)
  })
})

describe('per-payment: a deposit-mode PaymentIntent per 402', () => {
  it('creates a PaymentIntent per 402, offers its tempo address and binds the intent in opaque', async () => {
    const before = depositIntentsCreated().length
    const first = await request(`${perPayment.url}/v1/cheap`)
    const second = await request(`${perPayment.url}/v1/cheap`)
    expect(depositIntentsCreated()).toHaveLength(before + 2)
    const sent = depositIntentsCreated().at(-1)!
    expect(sent.form).toMatchObject({
      amount: '50',
      currency: 'usd',
      confirm: 'true',
      'payment_method_options[crypto][deposit_options][networks][0]': 'tempo',
    })
    expect(sent.headers['stripe-version']).toBe('2026-07-29.preview')
    const [a, b] = [requestOf(first), requestOf(second)]
    expect(a.recipient).not.toBe(b.recipient)
    const intent = stripe.paymentIntents.get(opaqueOf(first).paymentIntent!)!
    expect(intent.status).toBe('requires_action')
    expect(stripe.depositIntentFor(a.recipient)?.id).toBe(intent.id)
    expect(opaqueOf(first).route).toBe('GET /v1/cheap')
  })

  it('creates no PaymentIntent for a client whose Accept-Payment rules tempo out', async () => {
    const before = depositIntentsCreated().length
    const res = await request(`${perPayment.url}/v1/both`, {
      headers: { 'accept-payment': 'stripe/charge, tempo/*;q=0' },
    })
    expect(challengesOf(res).map((c) => c.method)).toEqual(['stripe'])
    expect(depositIntentsCreated()).toHaveLength(before)
  })

  it.each(['pull', 'push'] as const)(
    '%s: mppx pays the intent address; Stripe captures it, and only then is the payer served',
    async (mode) => {
      const res = await tempoPayer(node, accounts.payer, mode).fetch(`${perPayment.url}/v1/cheap`)
      expect(res.status, await res.clone().text()).toBe(200)
      const hash = MppxReceipt.deserialize(res.headers.get('payment-receipt')!).reference
      const intent = [...stripe.paymentIntents.values()].find((pi) => pi.crypto_transaction_hash === hash)!
      expect(intent).toMatchObject({ status: 'succeeded', amount_received: 50 })
      const [transfer] = transfersFromLogs(node.receipt(hash as Hex)!.logs)
      expect(stripe.depositIntentFor(transfer!.to)?.id).toBe(intent.id)
      expect(transfer!.amount).toBe(USD('0.50'))
      // Stripe's own capture is the record: no transaction-verification intent is added
      expect(stripe.cryptoRecords(hash)).toEqual([])
    },
  )

  it('Stripe has not seen the deposit yet: 503, nothing forwarded; the same credential is served once it has', async () => {
    stripeSeesDepositsAs = undefined
    const payer = tempoPayer(node, accounts.payer, 'pull')
    const authorization = await payer.authorizationFor(`${perPayment.url}/v1/cheap`)
    const forwarded = upstream.requests.length
    const early = await request(`${perPayment.url}/v1/cheap`, { headers: { authorization } })
    expect(early.status).toBe(503)
    expect(problemOf(early).detail).toContain('has not yet seen the deposit')
    expect(upstream.requests.length).toBe(forwarded)
    const intent = [...stripe.paymentIntents.values()].filter((pi) => pi.status === 'requires_action').at(-1)!
    stripe.simulateCryptoDeposit(intent.id, `0x${'00'.repeat(32)}`)
    const served = await request(`${perPayment.url}/v1/cheap`, { headers: { authorization } })
    expect(served.status).toBe(200)
    expect(upstream.requests.length).toBe(forwarded + 1)
  })

  it('a deposit Stripe is still processing is accepted within the grace', async () => {
    stripeSeesDepositsAs = 'processing'
    const res = await tempoPayer(node, accounts.payer, 'pull').fetch(`${perPayment.url}/v1/cheap`)
    expect(res.status).toBe(200)
  })

  it('Stripe down when a 402 is due: the tempo challenge is left out, and a tempo-only route answers 503', async () => {
    stripe.faults.down = true
    const both = await request(`${perPayment.url}/v1/both`)
    expect(both.status).toBe(402)
    expect(challengesOf(both).map((c) => c.method)).toEqual(['stripe'])
    const only = await request(`${perPayment.url}/v1/cheap`)
    expect(only.status).toBe(503)
    expect(problemOf(only).type).toContain('stripe-unavailable')
  })
})

describe('per-payment 402s are rate-limited', () => {
  it('refuses a client its fourth 402 in the window before Stripe is asked', async () => {
    const limited = await startTestGateway({
      upstreamUrl: upstream.url,
      stripeUrl: stripe.url,
      storeUrl: SHARED_REDIS_URL,
      routes: ROUTES,
      tempo: tempoBlock({ stripeDeposit: 'per-payment' }),
      extra: { rateLimit: { depositIntents: { limit: 3, window: '1m' } } },
    })
    try {
      const before = depositIntentsCreated().length
      const statuses = []
      for (let i = 0; i < 4; i++) statuses.push((await request(`${limited.url}/v1/cheap`)).status)
      expect(statuses).toEqual([402, 402, 402, 429])
      expect(depositIntentsCreated()).toHaveLength(before + 3)
    } finally {
      await limited.close()
    }
  })
})

describe('routes the deposit rail cannot charge', () => {
  it.each([
    ['0.005', 'a Stripe deposit address takes at least one cent (0.01); 0.005 is less'],
    ['0.015', 'Stripe records deposits in whole cents; 0.015 is not'],
  ])('a route naming tempo at %s is a config error', async (price, reason) => {
    const started = startTestGateway({
      upstreamUrl: upstream.url,
      stripeUrl: stripe.url,
      routes: [{ match: 'GET /x', price, methods: ['tempo'] }],
      tempo: tempoBlock({ stripeDeposit: 'reusable' }),
    })
    await expect(started).rejects.toThrow(`routes[0].methods: tempo cannot charge ${price} usd: ${reason}`)
  })

  it('a route leaving methods open fails when neither rail can charge its price', async () => {
    const started = startTestGateway({
      upstreamUrl: upstream.url,
      stripeUrl: stripe.url,
      routes: [{ match: 'GET /x', price: '0.005' }],
      tempo: tempoBlock({ stripeDeposit: 'reusable' }),
    })
    await expect(started).rejects.toThrow('no configured method can charge 0.005 usd')
  })
})
