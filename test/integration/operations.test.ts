import { readFileSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { stringify, parse as parseYaml } from 'yaml'
import { STRIPE_TEST_KEY, type TestGateway, startTestGateway } from '../support/gateway.js'
import { request } from '../support/http.js'
import { authorizationFor, challengeFor, problemOf, problemType } from '../support/pay.js'
import { SHARED_REDIS_URL } from '../support/redis-server.js'
import { type Stack, startStack } from '../support/stack.js'

let stack: Stack
let gw: TestGateway

const ROUTES = [
  { match: 'GET /v1/models', price: 'free' },
  { match: 'GET /v1/cheap', price: '0.50', description: 'Cheap call' },
  { match: 'GET /v1/reports/:id', price: '1.25' },
  { match: 'GET /v1/trial', price: '0.75', mode: 'shadow' },
]

/** Rewrites the gateway's config file as an operator would, then reloads it. */
async function editConfig(gateway: TestGateway, edit: (document: Record<string, unknown>) => void) {
  const document = parseYaml(readFileSync(gateway.configFile, 'utf8')) as Record<string, unknown>
  edit(document)
  writeFileSync(gateway.configFile, stringify(document))
  return gateway.gateway.reload()
}

const metricsText = async () => (await request(`${gw.adminUrl}/__gateway/metrics`)).body
const metric = (text: string, line: RegExp) => text.split('\n').find((l) => line.test(l))

beforeAll(async () => {
  stack = await startStack({
    storeUrl: SHARED_REDIS_URL,
    routes: ROUTES,
    extra: {
      watch: false,
      trustedProxies: ['127.0.0.1'],
      cors: { origins: ['https://app.example.com'] },
    },
  })
  gw = stack.gw
})
afterAll(() => stack.close())
beforeEach(() => {
  gw.logs.length = 0
})

describe('hot reload', () => {
  it('a price edit is live for new requests; a challenge from before it no longer buys the route', async () => {
    const before = challengeFor(await request(`${gw.url}/v1/cheap`))
    const { hash: oldHash } = JSON.parse((await request(`${gw.adminUrl}/__gateway/config`)).body)
    const result = await editConfig(gw, (doc) => {
      ;(doc.routes as Array<{ match: string; price: string }>)[1]!.price = '0.60'
    })
    expect(result).toMatchObject({ ok: true, changed: true })
    const live = JSON.parse((await request(`${gw.adminUrl}/__gateway/config`)).body)
    expect(live.hash).not.toBe(oldHash)
    expect(live.routes[1]).toMatchObject({ match: 'GET /v1/cheap', price: '0.60' })
    expect(
      JSON.parse(Buffer.from(challengeFor(await request(`${gw.url}/v1/cheap`)).request, 'base64url').toString()).amount,
    ).toBe('60')

    const stale = await request(`${gw.url}/v1/cheap`, {
      headers: { authorization: authorizationFor(before, { spt: await stack.spt() }) },
    })
    expect(stale.status).toBe(402)
    expect(problemOf(stale).type).toBe(problemType('invalid-challenge'))
    expect(problemOf(stale).detail).toMatch(/amount/)
    expect(stack.stripe.paymentIntents.size).toBe(0)
  })

  it('an invalid edit is refused with every error logged, and the old config keeps serving', async () => {
    const { hash } = JSON.parse((await request(`${gw.adminUrl}/__gateway/config`)).body)
    const result = await editConfig(gw, (doc) => {
      ;(doc.routes as Array<Record<string, unknown>>)[1]!.price = 'cheap'
      ;(doc.routes as Array<Record<string, unknown>>)[2]!.prise = '1.00'
    })
    expect(result.ok).toBe(false)
    const log = gw.logs.join('\n')
    expect(log).toContain('routes[1].price: \\"cheap\\" is not a decimal amount')
    expect(log).toContain('routes[2].prise: unknown key')
    expect(JSON.parse((await request(`${gw.adminUrl}/__gateway/config`)).body).hash).toBe(hash)
    expect((await request(`${gw.url}/v1/models`)).status).toBe(200)
    expect(await metricsText()).toMatch(/mpp_config_reloads_total\{outcome="failure"\} [1-9]/)
    await editConfig(gw, (doc) => {
      ;(doc.routes as Array<Record<string, unknown>>)[1]!.price = '0.50'
      delete (doc.routes as Array<Record<string, unknown>>)[2]!.prise
    })
  })

  it('reloads under load lose no request', async () => {
    let stop = false
    const statuses: number[] = []
    const failures: unknown[] = []
    const load = Array.from({ length: 8 }, async () => {
      while (!stop) {
        await request(`${gw.url}/v1/models`).then(
          (r) => statuses.push(r.status),
          (e: unknown) => failures.push(e),
        )
        await request(`${gw.url}/v1/cheap`).then(
          (r) => statuses.push(r.status),
          (e: unknown) => failures.push(e),
        )
      }
    })
    for (const price of ['0.55', '0.65', '0.50']) {
      await editConfig(gw, (doc) => {
        ;(doc.routes as Array<{ price: string }>)[1]!.price = price
      })
      await new Promise((r) => setTimeout(r, 50))
    }
    stop = true
    await Promise.all(load)
    expect(failures).toEqual([])
    expect(statuses.length).toBeGreaterThan(20)
    expect(new Set(statuses)).toEqual(new Set([200, 402]))
  })

  it('the file watcher picks up an edit by itself', async () => {
    const watched = await startTestGateway({
      upstreamUrl: stack.upstream.url,
      stripeUrl: stack.stripe.url,
      routes: ROUTES,
      extra: { watch: true },
    })
    try {
      const document = parseYaml(readFileSync(watched.configFile, 'utf8')) as { routes: Array<{ price: string }> }
      document.routes[1]!.price = '0.90'
      writeFileSync(watched.configFile, stringify(document))
      await expect
        .poll(async () => JSON.parse((await request(`${watched.adminUrl}/__gateway/config`)).body).routes[1].price, {
          timeout: 5_000,
        })
        .toBe('0.90')
    } finally {
      await watched.close()
    }
  })
})

describe('request logs', () => {
  it('one JSON line per request with route, status, payment outcome and client IP; no secret of a paid flow in it', async () => {
    const challenge = challengeFor(
      await request(`${gw.url}/v1/cheap`, { headers: { 'x-forwarded-for': '203.0.113.7' } }),
    )
    const spt = await stack.spt()
    const authorization = authorizationFor(challenge, { spt })
    const paid = await request(`${gw.url}/v1/cheap`, { headers: { authorization, 'x-forwarded-for': '203.0.113.7' } })
    expect(paid.status).toBe(200)
    await request(`${gw.url}/v1/cheap`, { headers: { authorization } }) // a replay, refused
    await new Promise((r) => setTimeout(r, 20))
    const lines = gw.logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'request')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatchObject({
      route: 'GET /v1/cheap',
      status: 402,
      payment: 'challenged',
      clientIp: '203.0.113.7',
    })
    expect(lines[1]).toMatchObject({
      route: 'GET /v1/cheap',
      status: 200,
      upstreamStatus: 200,
      payment: 'paid',
      paymentMethod: 'stripe',
      challengeId: challenge.id,
      clientIp: '203.0.113.7',
    })
    expect(lines[1]!.reference).toMatch(/^pi_/)
    expect(typeof lines[1]!.latencyMs).toBe('number')
    expect(lines[2]).toMatchObject({ status: 402, payment: 'refused', problem: 'invalid-challenge' })
    const log = gw.logs.join('\n')
    for (const secret of [
      spt,
      authorization,
      authorization.slice('Payment '.length),
      STRIPE_TEST_KEY,
      'test-secret-key',
    ])
      expect(log).not.toContain(secret)
  })
})

describe('client IP and CORS', () => {
  it('X-Forwarded-For is believed only from a trusted proxy, and forwarded as the client IP', async () => {
    await request(`${gw.url}/v1/models`, { headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' } })
    expect(stack.upstream.requests.at(-1)!.headers['x-forwarded-for']).toBe('203.0.113.9')
    const untrusting = await startTestGateway({
      upstreamUrl: stack.upstream.url,
      routes: [{ match: 'GET /v1/models', price: 'free' }],
    })
    try {
      await request(`${untrusting.url}/v1/models`, { headers: { 'x-forwarded-for': '203.0.113.9' } })
      expect(stack.upstream.requests.at(-1)!.headers['x-forwarded-for']).toBe('127.0.0.1')
    } finally {
      await untrusting.close()
    }
  })

  it('a browser on an allowed origin can send Authorization and read challenges and receipts', async () => {
    const preflight = await request(`${gw.url}/v1/cheap`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example.com')
    expect(preflight.headers['access-control-allow-headers']?.toLowerCase()).toContain('authorization')
    const challenged = await request(`${gw.url}/v1/cheap`, { headers: { origin: 'https://app.example.com' } })
    expect(challenged.headers['access-control-expose-headers']).toMatch(/WWW-Authenticate/i)
    expect(challenged.headers['access-control-expose-headers']).toMatch(/Payment-Receipt/i)
    const other = await request(`${gw.url}/v1/cheap`, { headers: { origin: 'https://evil.example' } })
    expect(other.headers['access-control-allow-origin']).toBeUndefined()
  })
})

describe('shadow mode and metrics', () => {
  it('a shadow route is served free while its would-be 402 and revenue are counted', async () => {
    const res = await request(`${gw.url}/v1/trial`)
    expect(res.status).toBe(200)
    const text = await metricsText()
    expect(metric(text, /^mpp_shadow_challenges_total\{route="GET \/v1\/trial",method="stripe"\}/)).toMatch(/ [1-9]/)
    expect(
      metric(text, /^mpp_shadow_revenue_base_units_total\{route="GET \/v1\/trial",method="stripe",currency="usd"\}/),
    ).toMatch(/ 75$/)
  })

  it('Prometheus text counts requests, 402s, verifications, revenue and upstream latency', async () => {
    const challenge = challengeFor(await request(`${gw.url}/v1/reports/1`))
    expect(
      (
        await request(`${gw.url}/v1/reports/1`, {
          headers: { authorization: authorizationFor(challenge, { spt: await stack.spt() }) },
        })
      ).status,
    ).toBe(200)
    const res = await request(`${gw.adminUrl}/__gateway/metrics`)
    expect(res.headers['content-type']).toMatch(/text\/plain/)
    const text = res.body
    expect(metric(text, /^mpp_http_requests_total\{route="GET \/v1\/reports\/:id",status="200"\}/)).toBeDefined()
    expect(metric(text, /^mpp_challenges_issued_total\{route="GET \/v1\/reports\/:id",method="stripe"\}/)).toBeDefined()
    expect(metric(text, /^mpp_verifications_total\{method="stripe",outcome="success"\}/)).toBeDefined()
    expect(
      metric(text, /^mpp_revenue_base_units_total\{route="GET \/v1\/reports\/:id",method="stripe",currency="usd"\}/),
    ).toMatch(/ 125$/)
    expect(text).toContain('mpp_upstream_duration_seconds_bucket')
  })
})

describe('discovery', () => {
  it('/openapi.json and /llms.txt follow the live route table', async () => {
    const doc = await request(`${gw.url}/openapi.json`)
    expect(doc.status).toBe(200)
    expect(doc.headers['cache-control']).toMatch(/max-age=300/)
    const openapi = JSON.parse(doc.body)
    expect(openapi.openapi).toBe('3.1.0')
    expect(JSON.stringify(openapi.paths['/v1/cheap'])).toContain('x-payment-info')
    expect(openapi.paths['/v1/cheap'].get.responses['402']).toBeDefined()
    await editConfig(gw, (document) => {
      ;(document.routes as Array<{ price: string }>)[2]!.price = '2.50'
    })
    expect(
      JSON.stringify(JSON.parse((await request(`${gw.url}/openapi.json`)).body).paths['/v1/reports/{id}']),
    ).toContain('250')
    expect((await request(`${gw.url}/llms.txt`)).body).toContain('/v1/reports')
    await editConfig(gw, (document) => {
      ;(document.routes as Array<{ price: string }>)[2]!.price = '1.25'
    })
  })
})

describe('rate limit on 402s', () => {
  it('beyond the per-IP budget: 429 with Retry-After, shared by replicas; a paid request still goes through', async () => {
    const limited = {
      upstreamUrl: stack.upstream.url,
      stripeUrl: stack.stripe.url,
      storeUrl: SHARED_REDIS_URL,
      routes: ROUTES,
      extra: { rateLimit: { challenges: { limit: 2, window: '1m' } } },
    }
    const a = await startTestGateway({ ...limited, keyPrefix: `rl:${Date.now()}:` })
    const b = await startTestGateway({ ...limited, keyPrefix: a.config.store.keyPrefix })
    try {
      const first = await request(`${a.url}/v1/cheap`)
      expect(first.status).toBe(402)
      expect((await request(`${b.url}/v1/cheap`)).status).toBe(402)
      const third = await request(`${a.url}/v1/cheap`)
      expect(third.status).toBe(429)
      expect(third.headers['retry-after']).toBe('60')
      expect(JSON.parse(third.body).type).toBe('urn:mpp-gateway:problem:rate-limited')
      const paid = await request(`${b.url}/v1/cheap`, {
        headers: { authorization: authorizationFor(challengeFor(first), { spt: await stack.spt() }) },
      })
      expect(paid.status).toBe(200)
    } finally {
      await a.close()
      await b.close()
    }
  })
})
