import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { Receipt as MppxReceipt } from 'mppx'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/log/logger.js'
import { type MppGateway, mppGateway } from '../../src/hono/index.js'
import { type FakeStripe, startFakeStripe } from '../support/fake-stripe.js'
import { TEST_REALM, writeTestConfig } from '../support/gateway.js'
import { mppxStripeClient } from '../support/mppx-stripe.js'
import { SHARED_REDIS_URL } from '../support/redis-server.js'

// A Hono app that serves its own routes, priced by the gateway's YAML through the middleware.
const ROUTES = [
  { match: 'GET /api/reports/:id', price: '1.25', description: 'A report' },
  { match: 'POST /api/summaries', price: '0.50' },
  { match: 'GET /api/broken', price: '0.50' },
  { match: 'GET /api/trial', price: '0.75', mode: 'shadow' },
  { match: 'GET /api/free', price: 'free' },
]

let stripe: FakeStripe
let pay: MppGateway
let app: Hono
let url: string
let closeServer: () => Promise<void>
const logs: string[] = []
/** what each handler saw: the Authorization and Payment-Receipt request headers */
const seen: Array<{ path: string; authorization: string | null; receipt: string | null }> = []

beforeAll(async () => {
  stripe = await startFakeStripe()
  const file = writeTestConfig({
    // the middleware never forwards; the schema still asks for an upstream
    upstreamUrl: 'http://127.0.0.1:9',
    stripeUrl: stripe.url,
    storeUrl: SHARED_REDIS_URL,
    routes: ROUTES,
  })
  pay = mppGateway({ config: file, logger: createLogger({ level: 'debug', write: (line) => logs.push(line) }) })
  await pay.ready
  app = new Hono()
  app.use(async (c, next) => {
    seen.push({ path: c.req.path, authorization: c.req.header('authorization') ?? null, receipt: null })
    await next()
  })
  app.use(pay)
  app.use(async (c, next) => {
    seen.at(-1)!.authorization = c.req.header('authorization') ?? null
    seen.at(-1)!.receipt = c.req.header('payment-receipt') ?? null
    await next()
  })
  app.get('/api/reports/:id', (c) => c.json({ report: c.req.param('id') }, 200, { 'Cache-Control': 'max-age=60' }))
  app.post('/api/summaries', async (c) => c.json({ summary: await c.req.json() }))
  app.get('/api/broken', () => {
    throw new Error('the handler failed')
  })
  app.get('/api/trial', (c) => c.text('trial'))
  app.get('/api/free', (c) => c.text('free'))
  app.get('/health', (c) => c.text('ok'))
  app.onError((_error, c) => c.text('the app failed', 500))
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise<void>((resolve) => server.once('listening', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  closeServer = () => new Promise<void>((resolve) => server.close(() => resolve()))
})

afterAll(async () => {
  await closeServer()
  await pay.close()
  await stripe.close()
})

const lastSeen = () => seen.at(-1)!
const ledgerEntry = async (challengeId: string) => (await pay.ledger()).find((e) => e.challengeId === challengeId)
const challengeIdOf = (authorization: string) =>
  (
    JSON.parse(Buffer.from(authorization.slice('Payment '.length), 'base64url').toString()) as {
      challenge: { id: string }
    }
  ).challenge.id

describe('mppGateway over HTTP (@hono/node-server), paid by the mppx client', () => {
  it('an unpaid request gets the 402 with a challenge, and the handler never runs', async () => {
    const before = seen.length
    const res = await fetch(`${url}/api/reports/7`)
    expect(res.status).toBe(402)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Payment id="[^"]+", realm="api\.example\.com", method="stripe"/,
    )
    expect(await res.json()).toMatchObject({ status: 402, detail: 'Payment is required: A report.' })
    expect(seen.length).toBe(before + 1)
    expect(lastSeen().receipt).toBeNull()
  })

  it('mppx pays: 200 with a receipt mppx can read, Cache-Control private, no credential in the handler', async () => {
    const minted: string[] = []
    const client = mppxStripeClient(stripe, ({ spt }) => minted.push(spt))
    const res = await client.fetch(`${url}/api/reports/7`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ report: '7' })
    expect(res.headers.get('cache-control')).toBe('max-age=60, private')
    const receipt = MppxReceipt.deserialize(res.headers.get('payment-receipt')!)
    expect(receipt).toMatchObject({ method: 'stripe', status: 'success' })
    expect(receipt.reference).toMatch(/^pi_/)
    // the handler ran once, paid: no credential, and the same receipt the payer got
    expect(lastSeen()).toEqual({
      path: '/api/reports/7',
      authorization: null,
      receipt: res.headers.get('payment-receipt'),
    })
    expect(stripe.paymentIntents.get(receipt.reference)).toMatchObject({ amount: 125, status: 'succeeded' })
    expect(minted).toHaveLength(1)
    expect(logs.join('\n')).not.toContain(minted[0])
  })

  it('a POST body is digested, settled, and still readable by the handler', async () => {
    const client = mppxStripeClient(stripe)
    const res = await client.fetch(`${url}/api/summaries`, {
      method: 'POST',
      body: JSON.stringify({ text: 'long' }),
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ summary: { text: 'long' } })
    expect(res.headers.get('payment-receipt')).not.toBeNull()
  })

  it('a payer who left while it settled: the handler does not run, and the same credential is served later', async () => {
    const client = mppxStripeClient(stripe)
    const authorization = await client.createCredential(await fetch(`${url}/api/reports/9`))
    const paidRuns = () => seen.filter((s) => s.path === '/api/reports/9' && s.receipt !== null).length
    const gone = new AbortController()
    gone.abort()
    await app.request('/api/reports/9', { headers: { authorization }, signal: gone.signal })
    expect(paidRuns()).toBe(0)
    expect(await ledgerEntry(challengeIdOf(authorization))).toMatchObject({
      state: 'paid',
      outcome: 'client-gone',
      upstreamStatus: 0,
    })
    const again = await fetch(`${url}/api/reports/9`, { headers: { authorization } })
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual({ report: '9' })
    expect(paidRuns()).toBe(1)
    const reference = MppxReceipt.deserialize(again.headers.get('payment-receipt')!).reference
    const intents = [...stripe.paymentIntents.values()].filter(
      (i) => i.metadata.mpp_challenge_id === challengeIdOf(authorization),
    )
    expect(intents.map((i) => i.id)).toEqual([reference])
    // served in the end: nothing for the sweeper to report
    expect(await pay.sweep()).toBe(0)
  })

  it('a reused credential gets 402 and the handler does not run again', async () => {
    const client = mppxStripeClient(stripe)
    const challenge = await fetch(`${url}/api/reports/8`)
    const authorization = await client.createCredential(challenge)
    const first = await fetch(`${url}/api/reports/8`, { headers: { authorization } })
    expect(first.status).toBe(200)
    await first.arrayBuffer()
    const handled = seen.filter((s) => s.path === '/api/reports/8' && s.receipt !== null).length
    const again = await fetch(`${url}/api/reports/8`, { headers: { authorization } })
    expect(again.status).toBe(402)
    expect(await again.json()).toMatchObject({
      type: 'https://paymentauth.org/problems/invalid-challenge',
      detail: 'This challenge has already been used.',
    })
    expect(again.headers.get('www-authenticate')).toMatch(/^Payment /)
    expect(seen.filter((s) => s.path === '/api/reports/8' && s.receipt !== null).length).toBe(handled)
    expect(await ledgerEntry(challengeIdOf(authorization))).toMatchObject({
      route: 'GET /api/reports/:id',
      outcome: 'served',
      upstreamStatus: 200,
    })
  })

  it('an app 500 gets no receipt, and the ledger records the payment as upstream-error', async () => {
    const client = mppxStripeClient(stripe)
    const challenge = await fetch(`${url}/api/broken`)
    const authorization = await client.createCredential(challenge)
    const res = await fetch(`${url}/api/broken`, { headers: { authorization } })
    expect(res.status).toBe(500)
    expect(res.headers.get('payment-receipt')).toBeNull()
    expect(res.headers.get('cache-control')).toBeNull()
    expect(await ledgerEntry(challengeIdOf(authorization))).toMatchObject({
      route: 'GET /api/broken',
      method: 'stripe',
      amount: '50',
      currency: 'usd',
      outcome: 'upstream-error',
      upstreamStatus: 500,
    })
    expect(logs.some((l) => l.includes('payment settled but the upstream did not serve it'))).toBe(true)
  })

  it('a free route, a shadow route and an unmatched path pass through untouched', async () => {
    for (const path of ['/api/free', '/api/trial', '/health']) {
      const res = await fetch(`${url}${path}`, { headers: { authorization: 'Bearer app-token' } })
      expect(res.status).toBe(200)
      expect(res.headers.get('payment-receipt')).toBeNull()
      expect(res.headers.get('www-authenticate')).toBeNull()
      expect(lastSeen()).toEqual({ path, authorization: 'Bearer app-token', receipt: null })
    }
    expect(await pay.metrics()).toMatch(/mpp_shadow_challenges_total\{route="GET \/api\/trial",method="stripe"\} 1/)
  })

  it('another spelling of a priced path is priced too', async () => {
    const res = await fetch(`${url}/api/%72eports/7`)
    expect(res.status).toBe(402)
    const bad = await fetch(`${url}/api/reports%2F7`)
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ type: 'urn:mpp-gateway:problem:bad-path' })
  })
})

describe('mppGateway through app.request()', () => {
  const request = (path: string, init?: RequestInit) => app.request(`http://app.local${path}`, init)

  it('402, then paid: 200 with the receipt, and the Authorization the app sees is what is left', async () => {
    const client = mppxStripeClient(stripe)
    const challenge = await request('/api/reports/9')
    expect(challenge.status).toBe(402)
    expect(challenge.headers.get('www-authenticate')).toContain(`realm="${TEST_REALM}"`)
    const credential = await client.createCredential(challenge)
    const res = await request('/api/reports/9', { headers: { authorization: `${credential}, Bearer app-token` } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ report: '9' })
    expect(res.headers.get('cache-control')).toBe('max-age=60, private')
    const receipt = res.headers.get('payment-receipt')!
    expect(MppxReceipt.deserialize(receipt)).toMatchObject({ method: 'stripe', status: 'success' })
    expect(lastSeen()).toEqual({ path: '/api/reports/9', authorization: 'Bearer app-token', receipt })
    // the same credential again: refused, and the app's handler is not reached
    const again = await request('/api/reports/9', { headers: { authorization: credential } })
    expect(again.status).toBe(402)
    expect(lastSeen().receipt).toBeNull()
  })

  it('a POST through app.request(): the body reaches the handler after its digest is checked', async () => {
    const client = mppxStripeClient(stripe)
    const init = { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } }
    const challenge = await request('/api/summaries', init)
    expect(challenge.status).toBe(402)
    const authorization = await client.createCredential(challenge)
    const res = await request('/api/summaries', { ...init, headers: { ...init.headers, authorization } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ summary: { n: 1 } })
    // a credential for one body does not pay for another
    const other = await request('/api/summaries', {
      ...init,
      body: '{"n":2}',
      headers: { ...init.headers, authorization },
    })
    expect(other.status).toBe(402)
  })

  it('an app 500 through app.request(): no receipt, committed as upstream-error', async () => {
    const client = mppxStripeClient(stripe)
    const authorization = await client.createCredential(await request('/api/broken'))
    const res = await request('/api/broken', { headers: { authorization } })
    expect(res.status).toBe(500)
    expect(res.headers.get('payment-receipt')).toBeNull()
    expect(await ledgerEntry(challengeIdOf(authorization))).toMatchObject({
      outcome: 'upstream-error',
      upstreamStatus: 500,
    })
  })

  it('a free route is untouched', async () => {
    const res = await request('/api/free', { headers: { authorization: 'Bearer app-token' } })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('free')
    expect(res.headers.get('cache-control')).toBeNull()
    expect(lastSeen()).toEqual({ path: '/api/free', authorization: 'Bearer app-token', receipt: null })
  })
})

describe('mppGateway: what only the sidecar carries out', () => {
  it('refuses a config with validate, grant or access, naming each, rather than leave them undone', async () => {
    const file = writeTestConfig({
      upstreamUrl: 'http://127.0.0.1:9',
      stripeUrl: stripe.url,
      storeUrl: SHARED_REDIS_URL,
      routes: [
        {
          match: 'POST /agent/orders',
          price: '1.00',
          validate: { request: 'POST /agent/orders/validate' },
          grant: { name: 'order', header: 'X-Api-Key', idFrom: 'response-body:/id' },
        },
        { match: 'GET /agent/orders/:id', access: { grant: 'order', param: 'id' } },
      ],
    })
    const refused = mppGateway({ config: file, logger: createLogger({ level: 'error', write: () => {} }) })
    const error = await refused.ready.then(
      () => undefined,
      (e: Error) => e,
    )
    expect(error?.message.split('\n').map((line) => line.replace(/^.*?: routes/, 'routes'))).toEqual([
      'routes[0].validate: the Hono middleware does not support it; run the sidecar for this route, or do it in the app',
      'routes[0].grant: the Hono middleware does not support it; run the sidecar for this route, or do it in the app',
      'routes[1].access: the Hono middleware does not support it; run the sidecar for this route, or do it in the app',
    ])
    await refused.close()
  })
})
