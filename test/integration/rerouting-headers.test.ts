import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import methodOverride from 'method-override'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeStripe, startFakeStripe } from '../support/fake-stripe.js'
import { type TestGateway, startTestGateway } from '../support/gateway.js'
import { request } from '../support/http.js'
import { type TestUpstream, startUpstream } from '../support/upstream.js'

// Issue 11 item 3 (headers): nothing a client sends may make the upstream re-method or re-route a
// request the gateway priced, nor pass for a header the gateway owns.

const ROUTES = [
  { match: 'GET /v1/paid', price: '0.50' },
  { match: '* /*', price: 'free' },
]

describe('a stock Express 5 upstream with method-override', () => {
  let stripe: FakeStripe
  let server: Server
  let gw: TestGateway

  beforeAll(async () => {
    const app = express()
    // The usual set-up: each of these headers turns a POST into the method it names.
    for (const header of ['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override'])
      app.use(methodOverride(header))
    app.get('/v1/paid', (_req, res) => {
      res.json({ handler: 'paid' })
    })
    app.use((req, res) => {
      res.status(404).json({ handler: 'fallback', method: req.method, url: req.url })
    })
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
    })
    stripe = await startFakeStripe()
    gw = await startTestGateway({
      upstreamUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      stripeUrl: stripe.url,
      routes: ROUTES,
    })
  })
  afterAll(async () => {
    await gw.close()
    await new Promise((resolve) => server.close(resolve))
    await stripe.close()
  })

  it('GET /v1/paid is priced', async () => {
    expect((await request(`${gw.url}/v1/paid`)).status).toBe(402)
  })

  it.each(['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override'])(
    'POST /v1/paid with %s: GET through the free catch-all does not reach the paid handler',
    async (header) => {
      const res = await request(`${gw.url}/v1/paid`, { method: 'POST', headers: { [header]: 'GET' } })
      expect(res.status).toBe(404)
      expect(JSON.parse(res.body)).toEqual({ handler: 'fallback', method: 'POST', url: '/v1/paid' })
    },
  )
})

describe('headers stripped before forwarding', () => {
  let upstream: TestUpstream
  const gateways: TestGateway[] = []
  const gateway = async (extra: Record<string, unknown> = {}) => {
    const gw = await startTestGateway({ upstreamUrl: upstream.url, routes: [{ match: '* /*', price: 'free' }], extra })
    gateways.push(gw)
    return gw
  }
  const namesSeen = () =>
    upstream.requests
      .at(-1)!
      .rawHeaders.filter((_, i) => i % 2 === 0)
      .map((name) => name.toLowerCase())
      .sort()

  beforeAll(async () => {
    upstream = await startUpstream()
  })
  afterAll(async () => {
    await Promise.all(gateways.map((gw) => gw.close()))
    await upstream.close()
  })

  it('rewrite headers, client X-Forwarded-* and X-Real-IP, and names with underscores never reach the upstream', async () => {
    const gw = await gateway()
    const res = await request(`${gw.url}/anything`, {
      headers: {
        'X-Original-URL': '/v1/paid',
        'X-Rewrite-URL': '/v1/paid',
        'X-Forwarded-Prefix': '/admin',
        Payment_Receipt: 'eyJzdGF0dXMiOiJzdWNjZXNzIn0',
        X_Forwarded_For: '10.0.0.1',
        'X-Forwarded-Port': '443',
        'X-Forwarded-Ssl': 'on',
        'X-Real-IP': '10.0.0.2',
        'X-Kept': 'yes',
      },
    })
    expect(res.status).toBe(200)
    expect(upstream.requests.at(-1)!.url).toBe('/anything')
    expect(namesSeen()).toEqual([
      'connection',
      'host',
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
      'x-kept',
    ])
    expect(upstream.requests.at(-1)!.headers['x-forwarded-for']).toBe('127.0.0.1')
  })

  it('upstream.stripRequestHeaders adds names, in any case', async () => {
    const gw = await gateway({ upstream: { url: upstream.url, timeout: '2s', stripRequestHeaders: ['x-debug-user'] } })
    await request(`${gw.url}/anything`, { headers: { 'X-Debug-User': 'root', 'X-Kept': 'yes' } })
    expect(namesSeen()).toEqual([
      'connection',
      'host',
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
      'x-kept',
    ])
  })
})
