import { afterEach, describe, expect, it } from 'vitest'
import { type GatewayProcess, spawnGateway } from '../support/cli.js'
import { type FakeStripe, startFakeStripe } from '../support/fake-stripe.js'
import { writeTestConfig } from '../support/gateway.js'
import { request } from '../support/http.js'
import { problemOf, problemType } from '../support/pay.js'
import { startRedisServer } from '../support/redis-server.js'
import {
  paymentIntentPosts,
  presentUntilSettled,
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

// Issue 12, the process-level failures: a gateway killed with -9 mid-settlement, and a gateway
// restarted on the in-memory store. The gateways are the built CLI (`npm run build`), as deployed.

const ROUTES = [{ match: 'GET /v1/cheap', price: '0.50' }]
const PRICE_BASE_UNITS = 500_000n

const opened: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close()
})

async function fakeStripe(): Promise<FakeStripe> {
  const stripe = await startFakeStripe()
  opened.push(() => stripe.close())
  return stripe
}

async function upstream(): Promise<TestUpstream> {
  const started = await startUpstream()
  opened.push(() => started.close())
  return started
}

async function tempoNode(): Promise<TempoNode> {
  const node = await startTempoNode()
  opened.push(() => node.close())
  node.setBalance(PATH_USD, accounts.payer.address, 100_000_000n)
  node.setBalance(PATH_USD, accounts.recipient.address, 0n)
  return node
}

async function gatewayProcess(configFile: string): Promise<GatewayProcess> {
  const gateway = await spawnGateway(configFile)
  // stop() waits for an exit event, which a process already killed with -9 has sent before
  opened.push(async () => {
    if (gateway.child.exitCode === null && gateway.child.signalCode === null) await gateway.stop('SIGKILL')
  })
  return gateway
}

const paidHits = (up: TestUpstream) => up.requests.filter((r) => r.url === '/v1/cheap').length

describe('a gateway killed with -9 mid-settlement', () => {
  it('Stripe: the next process serves the same credential once the lease runs out; one PaymentIntent', async () => {
    const redis = await startRedisServer()
    opened.push(() => redis.stop())
    const stripe = await fakeStripe()
    const up = await upstream()
    const configFile = writeTestConfig({
      upstreamUrl: up.url,
      storeUrl: redis.url,
      keyPrefix: uniquePrefix('crash-stripe'),
      routes: ROUTES,
      extra: { methods: { stripe: stripeBlock(stripe.url, '3s') } },
    })
    const first = await gatewayProcess(configFile)
    const { authorization } = await stripeCredential(stripe, `${first.url}/v1/cheap`)

    stripe.faults.delayMs = 1_500
    const pending = sendPending(`${first.url}/v1/cheap`, { authorization })
    await expect.poll(() => paymentIntentPosts(stripe), { timeout: 3_000, interval: 20 }).toBe(1)
    await first.stop('SIGKILL')
    expect(await pending.settled).toBeInstanceOf(Error)
    // Stripe finishes the charge the dead process asked for
    await expect.poll(() => stripe.charges(), { timeout: 3_000, interval: 50 }).toBe(1)
    stripe.faults.delayMs = 0

    const second = await gatewayProcess(configFile)
    const { response } = await presentUntilSettled(`${second.url}/v1/cheap`, authorization, { timeoutMs: 8_000 })
    expect(response.status, response.body).toBe(200)
    expect(stripe.paymentIntents.size).toBe(1)
    expect(receiptOf(response).reference).toBe([...stripe.paymentIntents.keys()][0])
    expect(stripe.charges()).toBe(1)
    expect(paidHits(up)).toBe(1)
  })

  it('Tempo pull: the next process serves the same credential; the recipient is paid once', async () => {
    const redis = await startRedisServer()
    opened.push(() => redis.stop())
    const node = await tempoNode()
    const up = await upstream()
    const configFile = writeTestConfig({
      upstreamUrl: up.url,
      storeUrl: redis.url,
      keyPrefix: uniquePrefix('crash-tempo'),
      routes: ROUTES,
      extra: { methods: { tempo: tempoBlock(node, '3s') } },
    })
    const first = await gatewayProcess(configFile)
    const { authorization } = await tempoPullCredential(`${first.url}/v1/cheap`, PRICE_BASE_UNITS)

    node.faults.delayMs = 1_500
    const pending = sendPending(`${first.url}/v1/cheap`, { authorization })
    await expect
      .poll(() => node.methodsCalledBy('gateway').includes('eth_sendRawTransactionSync'), {
        timeout: 3_000,
        interval: 20,
      })
      .toBe(true)
    await first.stop('SIGKILL')
    expect(await pending.settled).toBeInstanceOf(Error)
    // the node includes the transaction the dead process broadcast
    await expect
      .poll(() => node.balanceOf(PATH_USD, accounts.recipient.address), { timeout: 3_000, interval: 50 })
      .toBe(PRICE_BASE_UNITS)
    node.faults.delayMs = 0

    const second = await gatewayProcess(configFile)
    const { response } = await presentUntilSettled(`${second.url}/v1/cheap`, authorization, { timeoutMs: 8_000 })
    expect(response.status, response.body).toBe(200)
    const reference = receiptOf(response).reference as `0x${string}`
    expect(node.receipt(reference)).toBeDefined()
    expect(node.balanceOf(PATH_USD, accounts.recipient.address)).toBe(PRICE_BASE_UNITS)
    expect(paidHits(up)).toBe(1)
  })
  it('after paying, while the upstream answers: the next process forwards again without a new charge', async () => {
    const redis = await startRedisServer()
    opened.push(() => redis.stop())
    const stripe = await fakeStripe()
    const up = await upstream()
    // the first answer is slow (the process dies while waiting for it); later ones are at once
    up.handlers.set('/v1/cheap', (_req, res) => {
      const body = JSON.stringify({ ok: true })
      const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(body)
      if (paidHits(up) === 1) setTimeout(answer, 1_500)
      else answer()
    })
    const configFile = writeTestConfig({
      upstreamUrl: up.url,
      storeUrl: redis.url,
      keyPrefix: uniquePrefix('crash-forward'),
      routes: ROUTES,
      extra: { methods: { stripe: stripeBlock(stripe.url, '1s') } },
    })
    const first = await gatewayProcess(configFile)
    const { authorization } = await stripeCredential(stripe, `${first.url}/v1/cheap`)

    const pending = sendPending(`${first.url}/v1/cheap`, { authorization })
    await expect.poll(() => paidHits(up), { timeout: 3_000, interval: 20 }).toBe(1)
    await first.stop('SIGKILL')
    expect(await pending.settled).toBeInstanceOf(Error)
    expect(stripe.charges()).toBe(1)

    const second = await gatewayProcess(configFile)
    const { response } = await presentUntilSettled(`${second.url}/v1/cheap`, authorization, { timeoutMs: 8_000 })
    expect(response.status, response.body).toBe(200)
    expect(receiptOf(response).reference).toBe([...stripe.paymentIntents.keys()][0])
    expect(stripe.paymentIntents.size).toBe(1)
    expect(stripe.charges()).toBe(1)
    // the upstream is asked again: the payer never got the first answer
    expect(paidHits(up)).toBe(2)
  })
})

describe('a gateway restarted on the in-memory store', () => {
  it('a credential served before the restart is refused after it: no Stripe call, upstream not hit', async () => {
    const stripe = await fakeStripe()
    const up = await upstream()
    const configFile = writeTestConfig({
      upstreamUrl: up.url,
      routes: ROUTES,
      extra: { methods: { stripe: stripeBlock(stripe.url, '1s') } },
    })
    const first = await gatewayProcess(configFile)
    const { authorization } = await stripeCredential(stripe, `${first.url}/v1/cheap`)
    expect((await request(`${first.url}/v1/cheap`, { headers: { authorization } })).status).toBe(200)
    await first.stop('SIGTERM')

    // same config file, so the same secretKey: the old challenge's HMAC still verifies
    const second = await gatewayProcess(configFile)
    const again = await request(`${second.url}/v1/cheap`, { headers: { authorization } })
    expect(again.status, again.body).toBe(402)
    expect(problemOf(again).type).toBe(problemType('invalid-challenge'))
    expect(paymentIntentPosts(stripe)).toBe(1)
    expect(paidHits(up)).toBe(1)

    // a challenge of the new process pays as usual
    const fresh = await stripeCredential(stripe, `${second.url}/v1/cheap`)
    const paid = await request(`${second.url}/v1/cheap`, { headers: { authorization: fresh.authorization } })
    expect(paid.status, paid.body).toBe(200)
    expect(stripe.charges()).toBe(2)
    expect(paidHits(up)).toBe(2)
  })
})
