import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway } from '../support/gateway.js'
import { request } from '../support/http.js'
import { authorizationFor, challengeFor, problemOf } from '../support/pay.js'
import { freePort } from '../support/redis-server.js'
import { type Stack, startStack } from '../support/stack.js'

let stack: Stack
let stripe: Stack['stripe']
let upstream: Stack['upstream']
let gw: Stack['gw']

beforeAll(async () => {
  stack = await startStack({ upstreamBasePath: '/base' })
  ;({ stripe, upstream, gw } = stack)
})
afterAll(() => stack.close())

describe('free routes', () => {
  it('pass straight through to the upstream base path with method, query, cookies and forwarding headers', async () => {
    const res = await request(`${gw.url}/public/a/b?x=1&y=2`, {
      method: 'PUT',
      body: 'hello',
      headers: {
        cookie: 'sid=7',
        'x-custom': 'yes',
        'x-forwarded-for': '6.6.6.6',
        'accept-payment': 'stripe/charge',
        host: 'api.example.com',
      },
    })
    expect(res.status).toBe(200)
    const seen = upstream.requests.at(-1)!
    expect(seen).toMatchObject({ method: 'PUT', url: '/base/public/a/b?x=1&y=2', body: 'hello' })
    expect(seen.headers).toMatchObject({
      cookie: 'sid=7',
      'x-custom': 'yes',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'api.example.com',
    })
    expect(seen.headers['accept-payment']).toBeUndefined()
    expect(res.headers['payment-receipt']).toBeUndefined()
  })

  it('never forward a Payment credential, even one sent to a free route', async () => {
    await request(`${gw.url}/v1/models`, {
      headers: { authorization: ['Bearer up-token', 'Payment eyJzZWNyZXQiOiJ4In0'] },
    })
    const seen = upstream.requests.at(-1)!
    expect(seen.headers.authorization).toBe('Bearer up-token')
    expect(JSON.stringify(seen.rawHeaders)).not.toContain('eyJzZWNyZXQiOiJ4In0')
    await request(`${gw.url}/v1/models`, { headers: { authorization: 'Payment eyJzZWNyZXQiOiJ4In0' } })
    expect(upstream.requests.at(-1)!.headers.authorization).toBeUndefined()
  })

  it('answer HEAD through the GET route', async () => {
    const res = await request(`${gw.url}/v1/models`, { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(upstream.requests.at(-1)).toMatchObject({ method: 'HEAD', url: '/base/v1/models' })
  })
})

describe('path canonicalization', () => {
  it.each(['/v1//cheap', '/v1/./cheap', '/v1/x/../cheap', '/v1/%63heap', '//v1/cheap'])(
    '%s is the priced /v1/cheap',
    async (path) => {
      const res = await request(gw.url + path)
      expect(res.status).toBe(402)
    },
  )

  it('rejects encoded slashes and climbing above the root with 400', async () => {
    for (const path of ['/v1%2Fcheap', '/public/..%2f..%2fv1/cheap', '/../v1/cheap']) {
      const res = await request(gw.url + path)
      expect(res.status, path).toBe(400)
      expect(res.headers['content-type']).toBe('application/problem+json')
    }
  })

  it('forwards the canonical spelling that was matched', async () => {
    await request(`${gw.url}/public//x/./y/%7Ez`)
    expect(upstream.requests.at(-1)!.url).toBe('/base/public/x/y/~z')
  })

  it('answers unmatched requests with a 404 problem and never forwards /__gateway/', async () => {
    const before = upstream.requests.length
    const unmatched = await request(`${gw.url}/nothing/here`)
    expect(unmatched.status).toBe(404)
    expect(problemOf(unmatched).status).toBe(404)
    expect((await request(`${gw.url}/__gateway/secret`)).status).toBe(404)
    expect(upstream.requests.length).toBe(before)
  })
})

describe('streaming', () => {
  it('an SSE upstream arrives chunk by chunk through a paid route', async () => {
    let releaseSecond: () => void = () => {}
    const secondMayGo = new Promise<void>((resolve) => (releaseSecond = resolve))
    upstream.handlers.set('/base/v1/stream', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' })
      res.write('data: first\n\n')
      void secondMayGo.then(() => res.end('data: second\n\n'))
    })
    const unpaid = await request(`${gw.url}/v1/stream`)
    const authorization = authorizationFor(challengeFor(unpaid), { spt: await stack.spt() })

    const chunks: string[] = []
    const done = new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get(`${gw.url}/v1/stream`, { headers: { authorization }, agent: false }, (res) => {
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          chunks.push(chunk)
          // The first event is through before the upstream has even written the second.
          if (chunks.join('').includes('first')) releaseSecond()
        })
        res.on('end', () => resolve(res))
      })
      req.on('error', reject)
    })
    const res = await done
    expect(res.statusCode).toBe(200)
    expect(res.headers['payment-receipt']).toBeDefined()
    expect(res.headers['content-type']).toBe('text/event-stream')
    expect(chunks.join('')).toBe('data: first\n\ndata: second\n\n')
    expect(chunks[0]).toBe('data: first\n\n')
  })

  it('streams a large request body to a free route', async () => {
    const body = Buffer.alloc(5 * 1024 * 1024, 'a')
    const res = await request(`${gw.url}/public/upload`, { method: 'POST', body })
    expect(res.status).toBe(200)
    expect(upstream.requests.at(-1)!.body.length).toBe(body.length)
  })

  it('refuses a paid route body beyond maxBodyBytes with 413', async () => {
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: Buffer.alloc(2 * 1024 * 1024, 'a'),
    })
    expect(res.status).toBe(413)
    expect(problemOf(res).status).toBe(413)
  })
})

describe('the in-memory store', () => {
  it('gives one success for 50 concurrent presentations of one credential inside one process', async () => {
    const unpaid = await request(`${gw.url}/v1/cheap`)
    const authorization = authorizationFor(challengeFor(unpaid), { spt: await stack.spt() })
    const charges = stripe.charges()
    const results = await Promise.all(
      Array.from({ length: 50 }, () => request(`${gw.url}/v1/cheap`, { headers: { authorization } })),
    )
    expect(results.filter((r) => r.status === 200)).toHaveLength(1)
    expect(stripe.charges() - charges).toBe(1)
    expect(gw.logs.join('')).toContain('in-memory, single instance')
  })
})

describe('upstream failures', () => {
  it('connection refused → 502 problem', async () => {
    const deadPort = await freePort()
    const dead = await startTestGateway({ upstreamUrl: `http://127.0.0.1:${deadPort}`, stripeUrl: stripe.url })
    try {
      const res = await request(`${dead.url}/v1/models`)
      expect(res.status).toBe(502)
      expect(res.headers['content-type']).toBe('application/problem+json')
    } finally {
      await dead.close()
    }
  })

  it('no answer within upstream.timeout → 504 problem', async () => {
    upstream.handlers.set('/base/public/slow', () => {})
    const res = await request(`${gw.url}/public/slow`)
    expect(res.status).toBe(504)
    expect(problemOf(res).title).toBe('Gateway Timeout')
  })
})

describe('health', () => {
  it('healthz and readyz answer on the gateway port', async () => {
    expect((await request(`${gw.url}/__gateway/healthz`)).status).toBe(200)
    const ready = await request(`${gw.url}/__gateway/readyz`)
    expect(ready.status).toBe(200)
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'ready', checks: { store: 'ok' } })
  })
})
