import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { headerLines, type RawResponse, request } from '../support/http.js'
import { authorizationFor, challengeFor, problemOf } from '../support/pay.js'
import { SHARED_REDIS_URL, startRedisServer } from '../support/redis-server.js'
import { type Stack, startStack } from '../support/stack.js'

// issue 13 §5: a paid order returns a key scoped to that order, which the status route takes.
const ROUTES = [
  {
    match: 'POST /agent/orders',
    price: '1.00',
    grant: { name: 'order', header: 'X-Api-Key', idFrom: 'response-body:/id', ttl: '7d' },
  },
  { match: 'GET /agent/orders/:id', access: { grant: 'order', param: 'id' } },
  {
    match: 'POST /short/orders',
    price: '0.50',
    grant: { name: 'short', header: 'X-Short-Key', idFrom: 'header:Location', ttl: '1s' },
  },
  { match: 'GET /short/orders/:id', access: { grant: 'short', param: 'id' } },
  {
    match: 'POST /big/orders',
    price: '0.50',
    grant: { name: 'big', header: 'X-Api-Key', idFrom: 'response-body:/id' },
  },
  {
    match: 'POST /flaky/orders',
    price: '0.50',
    grant: { name: 'flaky', header: 'X-Api-Key', idFrom: 'response-body:/id' },
  },
  { match: 'GET /flaky/orders/:id', access: { grant: 'flaky', param: 'id' } },
  {
    match: 'POST /failing/orders',
    price: '0.50',
    grant: { name: 'failing', header: 'X-Api-Key', idFrom: 'response-body:/id' },
  },
]
const ORDER = '{"id":"ord_1","status":"pending"}'
const BIG = JSON.stringify({ id: 'ord_big', padding: 'x'.repeat(100_000) })
const KEY = /^mppk_[A-Za-z0-9_-]{43}$/
const REALM = 'api.example.com'

let stack: Stack
let redis: Redis
const keyPrefix = `test:grants:${process.pid}:${Date.now()}:`

beforeAll(async () => {
  stack = await startStack({ storeUrl: SHARED_REDIS_URL, keyPrefix, routes: ROUTES })
  const { handlers } = stack.upstream
  const json = (status: number, body: string, headers: Record<string, string> = {}) =>
    ((_req, res) => {
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        ...headers,
      })
      res.end(body)
    }) satisfies Parameters<typeof handlers.set>[1]
  handlers.set('/agent/orders', json(201, ORDER))
  handlers.set('/short/orders', json(201, '{"ok":true}', { Location: '/short/orders/ord_9' }))
  handlers.set('/big/orders', json(201, BIG))
  handlers.set('/failing/orders', json(500, '{"id":"ord_x","error":"boom"}'))
  redis = new Redis(SHARED_REDIS_URL)
})
afterAll(async () => {
  redis.disconnect()
  await stack.close()
})

/** 402, then the same POST paid with a fresh SPT, as a client does it. */
async function payFor(path: string, body = '{"max_price":5000}'): Promise<RawResponse> {
  const headers = { 'content-type': 'application/json' }
  const unpaid = await request(stack.gw.url + path, { method: 'POST', body, headers })
  expect(unpaid.status).toBe(402)
  const authorization = authorizationFor(challengeFor(unpaid), { spt: await stack.spt() })
  return request(stack.gw.url + path, { method: 'POST', body, headers: { ...headers, authorization } })
}

async function orderKey(): Promise<string> {
  const paid = await payFor('/agent/orders')
  expect(paid.status).toBe(201)
  return String(paid.headers['x-api-key'])
}

/** what the upstream last received on `path` */
const lastUpstreamRequest = (path: string) => stack.upstream.requests.filter((r) => r.url === path).at(-1)
const upstreamCalls = (path: string) => stack.upstream.requests.filter((r) => r.url === path).length

describe('issuing: a paid 2xx carries a key scoped to the id it names', () => {
  it('returns the key in X-Api-Key beside the receipt, relays the body unchanged, and stores only its hash', async () => {
    const paid = await payFor('/agent/orders')
    expect(paid.status).toBe(201)
    expect(paid.body).toBe(ORDER)
    expect(paid.headers['content-length']).toBe(String(ORDER.length))
    expect(paid.headers['payment-receipt']).toBeDefined()
    const key = String(paid.headers['x-api-key'])
    expect(key).toMatch(KEY)

    const stored = await redis.keys(`${keyPrefix}grant:*`)
    const values = await Promise.all(stored.map((name) => redis.get(name)))
    expect(values.some((value) => value?.includes(key))).toBe(false)
    const records = values.map((value) => JSON.parse(value!))
    expect(records).toContainEqual({ grant: 'order', id: 'ord_1', expiresAt: expect.any(Number) })
    const mine = records.find((r) => r.grant === 'order')
    expect(mine.expiresAt - Date.now()).toBeGreaterThan(7 * 86_400_000 - 60_000)
    expect(mine.expiresAt - Date.now()).toBeLessThanOrEqual(7 * 86_400_000)
  })

  it('takes the id from a response header (the last segment of Location)', async () => {
    const paid = await payFor('/short/orders')
    expect(paid.status).toBe(201)
    const key = String(paid.headers['x-short-key'])
    expect(key).toMatch(KEY)
    const status = await request(`${stack.gw.url}/short/orders/ord_9`, { headers: { 'x-short-key': key } })
    expect(status.status).toBe(200)
  })

  it('issues no key when the body is over 64 KiB, and still relays it whole', async () => {
    const paid = await payFor('/big/orders')
    expect(paid.status).toBe(201)
    expect(paid.headers['x-api-key']).toBeUndefined()
    expect(paid.body).toBe(BIG)
    expect(
      stack.gw.logs.some((line) => line.includes('grant key not issued') && line.includes('over 65536 bytes')),
    ).toBe(true)
  })

  it('issues the key on the retry that succeeds, when the first forward failed (onUpstreamFailure: retry)', async () => {
    let calls = 0
    stack.upstream.handlers.set('/flaky/orders', (_req, res) => {
      calls++
      const [status, body] = calls === 1 ? [503, '{"error":"busy"}'] : [201, '{"id":"ord_f"}']
      res.writeHead(status, { 'Content-Type': 'application/json' })
      res.end(body)
    })
    const body = '{}'
    const headers = { 'content-type': 'application/json' }
    const unpaid = await request(`${stack.gw.url}/flaky/orders`, { method: 'POST', body, headers })
    const authorization = authorizationFor(challengeFor(unpaid), { spt: await stack.spt() })
    const paid = { method: 'POST', body, headers: { ...headers, authorization } }
    const failed = await request(`${stack.gw.url}/flaky/orders`, paid)
    expect(failed.status).toBe(503)
    expect(failed.headers['x-api-key']).toBeUndefined()
    const retried = await request(`${stack.gw.url}/flaky/orders`, paid)
    expect(retried.status).toBe(201)
    const key = String(retried.headers['x-api-key'])
    expect(key).toMatch(KEY)
    expect((await request(`${stack.gw.url}/flaky/orders/ord_f`, { headers: { 'x-api-key': key } })).status).toBe(200)
  })

  it('issues no key on a non-2xx answer', async () => {
    const paid = await payFor('/failing/orders')
    expect(paid.status).toBe(500)
    expect(paid.headers['x-api-key']).toBeUndefined()
    expect(paid.body).toBe('{"id":"ord_x","error":"boom"}')
  })
})

describe('using: an access route takes the key for its own id only', () => {
  it('forwards with the key in X-Api-Key, and the upstream sees no key', async () => {
    const key = await orderKey()
    const res = await request(`${stack.gw.url}/agent/orders/ord_1`, { headers: { 'x-api-key': key } })
    expect(res.status).toBe(200)
    const seen = lastUpstreamRequest('/agent/orders/ord_1')!
    expect(seen.headers['x-api-key']).toBeUndefined()
    expect(seen.headers.authorization).toBeUndefined()
  })

  it('forwards with the key as Authorization: Bearer, which is taken out; other schemes still go', async () => {
    const key = await orderKey()
    const res = await request(`${stack.gw.url}/agent/orders/ord_1`, { headers: { authorization: `Bearer ${key}` } })
    expect(res.status).toBe(200)
    expect(lastUpstreamRequest('/agent/orders/ord_1')!.headers.authorization).toBeUndefined()
    const both = await request(`${stack.gw.url}/agent/orders/ord_1`, {
      headers: { 'x-api-key': key, authorization: 'Basic dXNlcjpwdw==' },
    })
    expect(both.status).toBe(200)
    expect(lastUpstreamRequest('/agent/orders/ord_1')!.headers.authorization).toBe('Basic dXNlcjpwdw==')
  })

  it('answers 403 for another order, with insufficient_scope, and forwards nothing', async () => {
    const key = await orderKey()
    const before = upstreamCalls('/agent/orders/ord_2')
    const res = await request(`${stack.gw.url}/agent/orders/ord_2`, { headers: { 'x-api-key': key } })
    expect(res.status).toBe(403)
    expect(headerLines(res, 'www-authenticate')).toEqual([`Bearer realm="${REALM}", error="insufficient_scope"`])
    expect(problemOf(res)).toEqual({
      type: 'urn:mpp-gateway:problem:grant-key-wrong-scope',
      title: 'Forbidden',
      status: 403,
      detail: 'The key was issued for another resource.',
    })
    expect(upstreamCalls('/agent/orders/ord_2')).toBe(before)
  })

  it('answers 401 with a Bearer challenge when no key is sent', async () => {
    const res = await request(`${stack.gw.url}/agent/orders/ord_1`)
    expect(res.status).toBe(401)
    expect(headerLines(res, 'www-authenticate')).toEqual([`Bearer realm="${REALM}"`])
    expect(problemOf(res)).toMatchObject({ type: 'urn:mpp-gateway:problem:grant-key-required', status: 401 })
  })

  it('answers 401 invalid_token for garbage and for a well-formed key never issued', async () => {
    for (const junk of ['garbage', `mppk_${'A'.repeat(43)}`]) {
      const res = await request(`${stack.gw.url}/agent/orders/ord_1`, { headers: { authorization: `Bearer ${junk}` } })
      expect(res.status).toBe(401)
      expect(headerLines(res, 'www-authenticate')).toEqual([`Bearer realm="${REALM}", error="invalid_token"`])
      expect(problemOf(res)).toEqual({
        type: 'urn:mpp-gateway:problem:grant-key-invalid',
        title: 'Unauthorized',
        status: 401,
        detail: 'The key is not one this gateway issued.',
      })
    }
  })

  it('answers 401 expired once the ttl has passed', async () => {
    const paid = await payFor('/short/orders')
    const key = String(paid.headers['x-short-key'])
    expect((await request(`${stack.gw.url}/short/orders/ord_9`, { headers: { 'x-short-key': key } })).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    const res = await request(`${stack.gw.url}/short/orders/ord_9`, { headers: { 'x-short-key': key } })
    expect(res.status).toBe(401)
    expect(headerLines(res, 'www-authenticate')).toEqual([`Bearer realm="${REALM}", error="invalid_token"`])
    expect(problemOf(res).type).toBe('urn:mpp-gateway:problem:grant-key-expired')
    expect(problemOf(res).detail).toMatch(/^The key expired at \d{4}-\d\d-\d\dT/)
  })

  it('does not take a key of one grant on another grant’s route', async () => {
    const key = await orderKey()
    const res = await request(`${stack.gw.url}/short/orders/ord_1`, { headers: { 'x-short-key': key } })
    expect(res.status).toBe(403)
  })

  it('never writes a key to the gateway log, and logs what became of it', async () => {
    const key = await orderKey()
    await request(`${stack.gw.url}/agent/orders/ord_1`, { headers: { 'x-api-key': key } })
    await request(`${stack.gw.url}/agent/orders/ord_1`, { headers: { authorization: `Bearer ${key}` } })
    await request(`${stack.gw.url}/agent/orders/ord_2`, { headers: { 'x-api-key': key } })
    // the request line is written when the response closes
    await expect
      .poll(() => stack.gw.logs.filter((line) => line.includes('"grant":"wrong-scope"')).length)
      .toBeGreaterThan(0)
    expect(stack.gw.logs.join('\n')).not.toContain(key)
    expect(stack.gw.logs.join('\n')).not.toContain(key.slice(5))
    expect(stack.gw.logs.some((line) => line.includes('"grant":"issued"'))).toBe(true)
    expect(stack.gw.logs.some((line) => line.includes('"grant":"accepted"'))).toBe(true)
  })
})

describe('metrics', () => {
  it('counts keys issued by route and grant, and refusals by route and reason', async () => {
    const own = await startStack({
      storeUrl: SHARED_REDIS_URL,
      keyPrefix: `${keyPrefix}m:`,
      routes: ROUTES.slice(0, 2),
    })
    try {
      own.upstream.handlers.set('/agent/orders', (_req, res) => {
        res.writeHead(201, { 'Content-Type': 'application/json' })
        res.end(ORDER)
      })
      const body = '{}'
      const headers = { 'content-type': 'application/json' }
      const unpaid = await request(`${own.gw.url}/agent/orders`, { method: 'POST', body, headers })
      const authorization = authorizationFor(challengeFor(unpaid), { spt: await own.spt() })
      const paid = await request(`${own.gw.url}/agent/orders`, {
        method: 'POST',
        body,
        headers: { ...headers, authorization },
      })
      const key = String(paid.headers['x-api-key'])
      await request(`${own.gw.url}/agent/orders/ord_1`)
      await request(`${own.gw.url}/agent/orders/ord_2`, { headers: { 'x-api-key': key } })
      await request(`${own.gw.url}/agent/orders/ord_2`, { headers: { 'x-api-key': key } })
      const text = (await request(`${own.gw.adminUrl}/__gateway/metrics`)).body
      expect(text).toContain('mpp_grants_issued_total{route="POST /agent/orders",grant="order"} 1')
      expect(text).toContain('mpp_grant_refusals_total{route="GET /agent/orders/:id",reason="missing"} 1')
      expect(text).toContain('mpp_grant_refusals_total{route="GET /agent/orders/:id",reason="wrong-scope"} 2')
    } finally {
      await own.close()
    }
  })
})

describe('browsers', () => {
  it('exposes the key header under CORS, so a paying script can read the key', async () => {
    const own = await startStack({
      storeUrl: SHARED_REDIS_URL,
      keyPrefix: `${keyPrefix}c:`,
      routes: ROUTES.slice(0, 2),
      extra: { cors: { origins: ['https://app.example'] } },
    })
    try {
      own.upstream.handlers.set('/agent/orders', (_req, res) => {
        res.writeHead(201, { 'Content-Type': 'application/json' })
        res.end(ORDER)
      })
      const headers = { 'content-type': 'application/json', origin: 'https://app.example' }
      const unpaid = await request(`${own.gw.url}/agent/orders`, { method: 'POST', body: '{}', headers })
      const authorization = authorizationFor(challengeFor(unpaid), { spt: await own.spt() })
      const paid = await request(`${own.gw.url}/agent/orders`, {
        method: 'POST',
        body: '{}',
        headers: { ...headers, authorization },
      })
      expect(paid.headers['x-api-key']).toMatch(KEY)
      expect(paid.headers['access-control-expose-headers']).toBe('WWW-Authenticate, Payment-Receipt, X-Api-Key')
    } finally {
      await own.close()
    }
  })
})

describe('when Redis is down', () => {
  it('serves the payer without a key (logged), and answers the access route 503 rather than forwarding', async () => {
    const redisServer = await startRedisServer()
    const own = await startStack({ storeUrl: redisServer.url, routes: ROUTES.slice(0, 2) })
    try {
      own.upstream.handlers.set('/agent/orders', (_req, res) => {
        res.writeHead(201, { 'Content-Type': 'application/json' })
        res.end(ORDER)
      })
      const headers = { 'content-type': 'application/json' }
      const unpaid = await request(`${own.gw.url}/agent/orders`, { method: 'POST', body: '{}', headers })
      const authorization = authorizationFor(challengeFor(unpaid), { spt: await own.spt() })
      const key = `mppk_${'B'.repeat(43)}`
      // the settlement record needs Redis too: stop it once the upstream is asked, that is after payment
      own.upstream.handlers.set('/agent/orders', (_req, res) => {
        redisServer.pause()
        res.writeHead(201, { 'Content-Type': 'application/json' })
        res.end(ORDER)
      })
      const paid = await request(`${own.gw.url}/agent/orders`, {
        method: 'POST',
        body: '{}',
        headers: { ...headers, authorization },
      })
      expect(paid.status).toBe(201)
      expect(paid.body).toBe(ORDER)
      expect(paid.headers['x-api-key']).toBeUndefined()
      expect(own.gw.logs.some((line) => line.includes('grant key not issued: the store failed'))).toBe(true)

      const before = own.upstream.requests.length
      const status = await request(`${own.gw.url}/agent/orders/ord_1`, { headers: { 'x-api-key': key } })
      expect(status.status).toBe(503)
      expect(status.headers['retry-after']).toBe('2')
      expect(problemOf(status).type).toBe('urn:mpp-gateway:problem:store-unavailable')
      expect(own.upstream.requests.length).toBe(before)
    } finally {
      redisServer.resume()
      await own.close()
      await redisServer.stop()
    }
  })
})
