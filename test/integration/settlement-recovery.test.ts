import { afterEach, describe, expect, it } from 'vitest'
import { type FakeStripe, startFakeStripe } from '../support/fake-stripe.js'
import { type TestGateway, startTestGateway } from '../support/gateway.js'
import { request } from '../support/http.js'
import { authorizationFor, challengeFor, problemOf, problemType } from '../support/pay.js'
import { type RedisServer, SHARED_REDIS_URL, startRedisServer } from '../support/redis-server.js'
import {
  STORE_UNAVAILABLE,
  PAYMENT_IN_PROGRESS,
  gatewayProblemType,
  ledgerFor,
  paymentIntentPosts,
  presentUntilSettled,
  problemTypeOf,
  receiptOf,
  sendPending,
  stripeBlock,
  stripeCredential,
  tempoBlock,
  tempoPullCredential,
  uniquePrefix,
} from '../support/settlement.js'
import { PATH_USD, type TempoNode, startTempoNode } from '../support/tempo-node.js'
import { accounts } from '../support/tempo-tx.js'
import { type TestUpstream, startUpstream } from '../support/upstream.js'

// Issue 12: each failure the chaos run found, replayed over real HTTP with real Redis. The
// expectations are the settlement state machine's (see the issue); on a gateway without it these fail.

const ROUTES = [{ match: 'GET /v1/cheap', price: '0.50' }]
const PRICE_BASE_UNITS = 500_000n

interface Scene {
  stripe: FakeStripe
  upstream: TestUpstream
  gw: TestGateway
  node?: TempoNode
  url: string
  redisUrl: string
  keyPrefix: string
  /** requests the upstream got on the paid route */
  upstreamHits(): number
}

interface SceneOptions {
  redisUrl?: string
  stripeTimeout?: string
  /** a Tempo stand-in and `methods.tempo` with this timeout */
  tempoTimeout?: string
  challengeTtl?: string
}

const opened: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close()
})

/** One gateway of its own per test: a fake Stripe, a recording upstream, Redis, and maybe the Tempo stand-in. */
async function startScene(options: SceneOptions = {}): Promise<Scene> {
  const stripe = await startFakeStripe()
  opened.push(() => stripe.close())
  const upstream = await startUpstream()
  opened.push(() => upstream.close())
  let node: TempoNode | undefined
  if (options.tempoTimeout) {
    const started = await startTempoNode()
    opened.push(() => started.close())
    started.setBalance(PATH_USD, accounts.payer.address, 100_000_000n)
    started.setBalance(PATH_USD, accounts.recipient.address, 0n)
    node = started
  }
  const redisUrl = options.redisUrl ?? SHARED_REDIS_URL
  const keyPrefix = uniquePrefix('recovery')
  const gw = await startTestGateway({
    upstreamUrl: upstream.url,
    storeUrl: redisUrl,
    keyPrefix,
    routes: ROUTES,
    extra: {
      ...(options.challengeTtl ? { challengeTtl: options.challengeTtl } : {}),
      methods: {
        stripe: stripeBlock(stripe.url, options.stripeTimeout ?? '1s'),
        ...(node && options.tempoTimeout ? { tempo: tempoBlock(node, options.tempoTimeout) } : {}),
      },
    },
  })
  opened.push(() => gw.close())
  const url = `${gw.url}/v1/cheap`
  return {
    stripe,
    upstream,
    gw,
    node,
    url,
    redisUrl,
    keyPrefix,
    upstreamHits: () => upstream.requests.filter((r) => r.url === '/v1/cheap').length,
  }
}

async function privateRedis(): Promise<RedisServer> {
  const redis = await startRedisServer()
  opened.push(async () => {
    redis.resume()
    await redis.stop()
  })
  return redis
}

const broadcastsByGateway = (node: TempoNode) =>
  node.methodsCalledBy('gateway').filter((m) => m.startsWith('eth_sendRawTransaction')).length

const onlyIntent = (stripe: FakeStripe) => {
  expect(stripe.paymentIntents.size).toBe(1)
  return [...stripe.paymentIntents.values()][0]!
}

describe('a payer who left mid-settlement', () => {
  it('Stripe: the charge completes, and the same credential later is served once, with no new PaymentIntent', async () => {
    // slow enough that the abort lands mid-settlement even on a loaded machine
    const scene = await startScene({ stripeTimeout: '5s' })
    const { stripe, url } = scene
    stripe.faults.delayMs = 2_000
    const { authorization, challengeId } = await stripeCredential(stripe, url)

    const pending = sendPending(url, { authorization })
    await expect.poll(() => paymentIntentPosts(stripe), { timeout: 3_000, interval: 20 }).toBe(1)
    pending.abort()
    expect(await pending.settled).toBeInstanceOf(Error)

    // settlement runs to its end although nobody waits for it
    await expect.poll(() => stripe.charges(), { timeout: 3_000, interval: 50 }).toBe(1)
    await expect
      .poll(async () => (await ledgerFor(scene.redisUrl, scene.keyPrefix, challengeId)).length, { timeout: 3_000 })
      .toBe(1)
    stripe.faults.delayMs = 0

    const { response } = await presentUntilSettled(url, authorization)
    expect(response.status, response.body).toBe(200)
    const intent = onlyIntent(stripe)
    expect(receiptOf(response).reference).toBe(intent.id)
    expect(stripe.charges()).toBe(1)
    // once: for the re-presentation, not for the request whose payer had left
    expect(scene.upstreamHits()).toBe(1)

    // the ledger tells the story: paid (the client left), then served
    await expect
      .poll(async () => (await ledgerFor(scene.redisUrl, scene.keyPrefix, challengeId)).at(-1)?.state, {
        timeout: 3_000,
      })
      .toBe('served')
    const entries = await ledgerFor(scene.redisUrl, scene.keyPrefix, challengeId)
    expect(entries.at(-1)).toMatchObject({ state: 'served', upstreamStatus: 200, reference: intent.id })
    expect(entries.slice(0, -1)).toContainEqual(
      expect.objectContaining({ state: 'paid', outcome: 'client-gone', upstreamStatus: 0, reference: intent.id }),
    )
  })
  it('Tempo pull: the broadcast lands, and the same credential later is served once, with no new transaction', async () => {
    const scene = await startScene({ tempoTimeout: '5s' })
    const node = scene.node!
    const { authorization, challengeId } = await tempoPullCredential(scene.url, PRICE_BASE_UNITS)
    node.faults.delayMs = 2_000

    const pending = sendPending(scene.url, { authorization })
    await expect.poll(() => broadcastsByGateway(node), { timeout: 3_000, interval: 20 }).toBe(1)
    pending.abort()
    expect(await pending.settled).toBeInstanceOf(Error)
    await expect
      .poll(() => node.balanceOf(PATH_USD, accounts.recipient.address), { timeout: 3_000, interval: 50 })
      .toBe(PRICE_BASE_UNITS)
    await expect
      .poll(async () => (await ledgerFor(scene.redisUrl, scene.keyPrefix, challengeId)).length, { timeout: 3_000 })
      .toBe(1)
    node.faults.delayMs = 0

    const { response } = await presentUntilSettled(scene.url, authorization)
    expect(response.status, response.body).toBe(200)
    const reference = receiptOf(response).reference as `0x${string}`
    expect(node.receipt(reference)).toBeDefined()
    expect(broadcastsByGateway(node)).toBe(1)
    expect(node.balanceOf(PATH_USD, accounts.recipient.address)).toBe(PRICE_BASE_UNITS)
    expect(scene.upstreamHits()).toBe(1)
    const entries = await ledgerFor(scene.redisUrl, scene.keyPrefix, challengeId)
    expect(entries[0]).toMatchObject({ state: 'paid', outcome: 'client-gone', upstreamStatus: 0, reference })
  })
})

describe('a payer who left while the response streamed', () => {
  it('the same credential is forwarded again, with no new charge; the ledger says paid, then served', async () => {
    const scene = await startScene()
    const { stripe, url, upstream } = scene
    // the first answer sends half its body, then stalls; later ones are whole
    upstream.handlers.set('/v1/cheap', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '10' })
      if (scene.upstreamHits() > 1) return void res.end('0123456789')
      res.write('01234')
      setTimeout(() => res.end('56789'), 1_500)
    })
    const { authorization, challengeId } = await stripeCredential(stripe, url)

    const pending = sendPending(url, { authorization })
    expect(await pending.responded).toBe(200)
    pending.abort()
    await expect
      .poll(async () => (await ledgerFor(scene.redisUrl, scene.keyPrefix, challengeId)).length, { timeout: 4_000 })
      .toBe(1)

    const { response } = await presentUntilSettled(url, authorization)
    expect(response.status, response.body).toBe(200)
    expect(response.body).toBe('0123456789')
    const intent = onlyIntent(stripe)
    expect(receiptOf(response).reference).toBe(intent.id)
    expect(stripe.charges()).toBe(1)
    expect(scene.upstreamHits()).toBe(2)
    await expect
      .poll(async () => (await ledgerFor(scene.redisUrl, scene.keyPrefix, challengeId)).at(-1)?.state, {
        timeout: 3_000,
      })
      .toBe('served')
    const entries = await ledgerFor(scene.redisUrl, scene.keyPrefix, challengeId)
    expect(entries[0]).toMatchObject({ state: 'paid', outcome: 'client-gone', reference: intent.id })
  })
})

describe('Stripe slower than methods.stripe.timeout, charging late', () => {
  it('a new SPT for the same challenge is refused without a call to Stripe; the original credential is served once', async () => {
    const scene = await startScene({ stripeTimeout: '300ms' })
    const { stripe, url } = scene
    stripe.faults.delayMs = 800
    const { authorization, challenge } = await stripeCredential(stripe, url)

    const timedOut = await request(url, { headers: { authorization } })
    expect(timedOut.status).toBe(503)
    expect(problemTypeOf(timedOut)).toBe(gatewayProblemType('stripe-unavailable'))
    expect(timedOut.headers['retry-after']).toBeDefined()
    // Stripe charged after the gateway stopped waiting
    await expect.poll(() => stripe.charges(), { timeout: 3_000, interval: 50 }).toBe(1)
    stripe.faults.delayMs = 0

    const secondSpt = await stripe.issueSpt({ paymentMethod: 'pm_card_visa', maxAmount: 10_000, currency: 'usd' })
    const second = await request(url, { headers: { authorization: authorizationFor(challenge, { spt: secondSpt }) } })
    expect(second.status, second.body).toBe(402)
    expect(problemOf(second).type).toBe(problemType('invalid-challenge'))
    expect(challengeFor(second).id).not.toBe(challenge.id)
    expect(paymentIntentPosts(stripe, secondSpt)).toBe(0)
    expect(stripe.charges()).toBe(1)
    expect(scene.upstreamHits()).toBe(0)

    // the original credential: Stripe replays its late success under the same idempotency key
    const { response } = await presentUntilSettled(url, authorization)
    expect(response.status, response.body).toBe(200)
    expect(receiptOf(response).reference).toBe(onlyIntent(stripe).id)
    expect(stripe.charges()).toBe(1)
    expect(scene.upstreamHits()).toBe(1)
  })
})

describe('a Tempo pull whose answer was lost', () => {
  it('re-presented after the challenge expired and after validBefore: served (not payment-expired), paid once', async () => {
    const scene = await startScene({ tempoTimeout: '2s', challengeTtl: '2s' })
    const node = scene.node!
    const { authorization, validBefore, expiresMs } = await tempoPullCredential(scene.url, PRICE_BASE_UNITS, 3)
    expect(expiresMs).toBeLessThan(Date.now() + 2_500)
    node.faults.loseAnswerNext = 1
    node.faults.loseAnswerMethods = ['eth_sendRawTransactionSync']

    const lost = await request(scene.url, { headers: { authorization } })
    expect(lost.status).toBe(503)
    expect(problemTypeOf(lost)).toBe(gatewayProblemType('tempo-rpc-unavailable'))
    // the transaction is on chain all the same
    expect(node.balanceOf(PATH_USD, accounts.recipient.address)).toBe(PRICE_BASE_UNITS)
    expect(scene.upstreamHits()).toBe(0)

    // the payer's retry comes late: the challenge has expired and so has the transaction's validBefore
    const lateMs = Math.max(expiresMs, validBefore * 1000) + 300 - Date.now()
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, lateMs)))

    const { response } = await presentUntilSettled(scene.url, authorization)
    expect(problemTypeOf(response)).not.toBe(problemType('payment-expired'))
    expect(response.status, response.body).toBe(200)
    const reference = receiptOf(response).reference as `0x${string}`
    expect(node.receipt(reference)).toBeDefined()
    expect(node.balanceOf(PATH_USD, accounts.recipient.address)).toBe(PRICE_BASE_UNITS)
    expect(scene.upstreamHits()).toBe(1)
  })
})

describe('Redis stalled (SIGSTOP) while a claim is made', () => {
  it('stopped for 3 s as in the chaos run, the payer retrying at once: served, one PaymentIntent', async () => {
    const redis = await privateRedis()
    const scene = await startScene({ redisUrl: redis.url })
    const { authorization } = await stripeCredential(scene.stripe, scene.url)

    await scene.gw.gateway.store.ping() // connected first: the stall, not the first connect, is under test
    redis.pause()
    const resumed = new Promise<void>((resolve) =>
      setTimeout(() => {
        redis.resume()
        resolve()
      }, 3_000),
    )
    const { response, answers } = await presentUntilSettled(scene.url, authorization, {
      retryOn: [STORE_UNAVAILABLE, PAYMENT_IN_PROGRESS],
      timeoutMs: 9_000,
    })
    await resumed
    expect(answers[0]!.status).toBe(503)
    expect(problemTypeOf(answers[0]!)).toBe(STORE_UNAVAILABLE)
    expect(answers[0]!.headers['retry-after']).toBeDefined()
    expect(problemTypeOf(response)).not.toBe(problemType('invalid-challenge'))
    expect(response.status, response.body).toBe(200)
    expect(receiptOf(response).reference).toBe(onlyIntent(scene.stripe).id)
    expect(scene.stripe.charges()).toBe(1)
    expect(scene.upstreamHits()).toBe(1)
  })

  it('resumed only after the gateway answered 503, then retried: served, not "already been used"', async () => {
    const redis = await privateRedis()
    const scene = await startScene({ redisUrl: redis.url })
    const { authorization } = await stripeCredential(scene.stripe, scene.url)

    await scene.gw.gateway.store.ping() // connected first: the stall, not the first connect, is under test
    redis.pause()
    const stalled = await request(scene.url, { headers: { authorization } })
    redis.resume()
    expect(stalled.status).toBe(503)
    expect(problemTypeOf(stalled)).toBe(STORE_UNAVAILABLE)
    expect(scene.stripe.charges()).toBe(0)

    const { response } = await presentUntilSettled(scene.url, authorization)
    expect(response.body).not.toContain('already been used')
    expect(response.status, response.body).toBe(200)
    expect(receiptOf(response).reference).toBe(onlyIntent(scene.stripe).id)
    expect(scene.upstreamHits()).toBe(1)
  })
})

describe('Redis restarted empty', () => {
  it('a used credential is refused (no Stripe call, upstream not hit); a challenge issued after the restart pays', async () => {
    const redis = await privateRedis()
    const scene = await startScene({ redisUrl: redis.url })
    const { stripe, url, gw } = scene
    const { authorization } = await stripeCredential(stripe, url)
    expect((await request(url, { headers: { authorization } })).status).toBe(200)
    expect(scene.upstreamHits()).toBe(1)

    await redis.restart()
    await expect
      .poll(
        () =>
          gw.gateway.store.ping().then(
            () => 'up',
            () => 'down',
          ),
        { timeout: 5_000, interval: 100 },
      )
      .toBe('up')

    const again = await request(url, { headers: { authorization } })
    expect(again.status, again.body).toBe(402)
    expect(problemOf(again).type).toBe(problemType('invalid-challenge'))
    expect(problemOf(again).detail).toMatch(/store was reset/)
    expect(challengeFor(again)).toBeDefined()
    expect(scene.upstreamHits()).toBe(1)
    expect(paymentIntentPosts(stripe)).toBe(1)

    const fresh = await stripeCredential(stripe, url)
    const paid = await request(url, { headers: { authorization: fresh.authorization } })
    expect(paid.status, paid.body).toBe(200)
    expect(stripe.charges()).toBe(2)
    expect(scene.upstreamHits()).toBe(2)
  })

  it('Tempo pull: a used credential is refused without a broadcast, upstream not hit', async () => {
    const redis = await privateRedis()
    const scene = await startScene({ redisUrl: redis.url, tempoTimeout: '2s' })
    const node = scene.node!
    const { authorization } = await tempoPullCredential(scene.url, PRICE_BASE_UNITS)
    expect((await request(scene.url, { headers: { authorization } })).status).toBe(200)
    expect(broadcastsByGateway(node)).toBe(1)

    await redis.restart()
    await expect
      .poll(
        () =>
          scene.gw.gateway.store.ping().then(
            () => 'up',
            () => 'down',
          ),
        { timeout: 5_000, interval: 100 },
      )
      .toBe('up')

    const again = await request(scene.url, { headers: { authorization } })
    expect(again.status, again.body).toBe(402)
    expect(problemOf(again).type).toBe(problemType('invalid-challenge'))
    expect(broadcastsByGateway(node)).toBe(1)
    expect(node.balanceOf(PATH_USD, accounts.recipient.address)).toBe(PRICE_BASE_UNITS)
    expect(scene.upstreamHits()).toBe(1)
  })
})
