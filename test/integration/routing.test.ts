import { readFileSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type ExpressUpstream,
  type PricedBehindExpress,
  startPricedBehindExpress,
} from '../support/express-upstream.js'
import type { FakeStripe } from '../support/fake-stripe.js'
import { type TestGateway, startTestGateway } from '../support/gateway.js'
import { request } from '../support/http.js'
import { authorizationFor, challengeFor, problemOf } from '../support/pay.js'

// A priced route in front of a free catch-all: every spelling that stock Express routes to the
// priced handler must be charged (402) or refused (400), never forwarded free.
const PRICED = ['GET /v1/paid', 'GET /v1/reports/:id', 'POST /v1/files/*']

let stripe: FakeStripe
let upstream: ExpressUpstream
let gw: TestGateway

let stack: PricedBehindExpress

beforeAll(async () => {
  stack = await startPricedBehindExpress(PRICED)
  ;({ stripe, upstream, gw } = stack)
})
afterAll(() => stack?.close())

describe('priced paths behind a free catch-all', () => {
  it.each([
    ['GET', '/V1/PAID', 'GET /v1/paid'],
    ['GET', '/v1/Paid', 'GET /v1/paid'],
    ['GET', '/v1/paid/', 'GET /v1/paid'],
    ['GET', '/v1/paid/.', 'GET /v1/paid'],
    ['GET', '/v1/paid//', 'GET /v1/paid'],
    ['HEAD', '/V1/paid/', 'GET /v1/paid'],
    ['GET', '/V1/Reports/r1/', 'GET /v1/reports/:id'],
    ['POST', '/v1/FILES/a/b', 'POST /v1/files/*'],
    ['POST', '/v1/files/', 'POST /v1/files/*'],
  ])('%s %s is charged, and is what Express routes to %s', async (method, path, handler) => {
    // The oracle: stock Express routes the spelling to the priced handler.
    const direct = await request(upstream.url + path.replace(/\/\.$/, '/').replace(/\/\/$/, '/'), { method })
    if (method !== 'HEAD') expect(JSON.parse(direct.body)).toEqual({ handler })
    const seen = upstream.requests.length
    const res = await request(gw.url + path, { method })
    expect(res.status).toBe(402)
    expect(upstream.requests.length).toBe(seen)
  })

  it.each([
    ['/v1/%252e%252e/v1/paid', 'double-encoded percent-escape'],
    ['/v1/paid%252f', 'double-encoded percent-escape'],
    ['/v1/%C0%AE%C0%AE/v1/paid', 'percent-escapes that are not valid UTF-8'],
    ['/v1/x/%E0%80%AE%E0%80%AE/paid', 'percent-escapes that are not valid UTF-8'],
    ['/v1/paid;x', '";" (a path parameter some servers strip)'],
    ['/v1/..;/v1/paid', '";" (a path parameter some servers strip)'],
  ])('%s is refused: %s', async (path, reason) => {
    const seen = upstream.requests.length
    const res = await request(gw.url + path)
    expect(res.status).toBe(400)
    expect(problemOf(res)).toMatchObject({
      status: 400,
      type: 'urn:mpp-gateway:problem:bad-path',
      detail: `The request path is not acceptable: ${reason}.`,
    })
    expect(upstream.requests.length).toBe(seen)
  })

  it('forwards a paid request with the path in the case the client sent', async () => {
    const unpaid = await request(`${gw.url}/V1/Paid/?q=1`)
    expect(unpaid.status).toBe(402)
    const spt = await stripe.issueSpt({ paymentMethod: 'pm_card_visa', maxAmount: 10_000, currency: 'usd' })
    const res = await request(`${gw.url}/V1/Paid/?q=1`, {
      headers: { authorization: authorizationFor(challengeFor(unpaid), { spt }) },
    })
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body)).toEqual({ handler: 'GET /v1/paid' })
    expect(upstream.requests.at(-1)).toEqual({ method: 'GET', url: '/V1/Paid/?q=1', handler: 'GET /v1/paid' })
  })

  it('still forwards other paths free, in their own case', async () => {
    const res = await request(`${gw.url}/V1/Free/Thing`)
    expect(res.status).toBe(200)
    expect(upstream.requests.at(-1)).toEqual({ method: 'GET', url: '/V1/Free/Thing', handler: 'catch-all' })
  })
})

describe('routes[].caseSensitive: true', () => {
  it('matches only the case written, and still ignores a trailing slash', async () => {
    const strict = await startTestGateway({
      upstreamUrl: upstream.url,
      stripeUrl: stripe.url,
      routes: [
        { match: 'GET /v1/paid', price: '0.50', caseSensitive: true },
        { match: '* /*', price: 'free' },
      ],
    })
    try {
      expect((await request(`${strict.url}/v1/paid/`)).status).toBe(402)
      expect((await request(`${strict.url}/V1/PAID`)).status).toBe(200)
      expect(upstream.requests.at(-1)).toEqual({ method: 'GET', url: '/V1/PAID', handler: 'GET /v1/paid' })
    } finally {
      await strict.close()
    }
  })
})

describe('a route shadowed by an earlier, cheaper one', () => {
  it('is refused on reload, and the old config keeps charging', async () => {
    const priced = await startTestGateway({
      upstreamUrl: upstream.url,
      stripeUrl: stripe.url,
      routes: [{ match: 'GET /v1/joke', price: '2.00' }],
      extra: { watch: false },
    })
    try {
      const text = readFileSync(priced.configFile, 'utf8')
      // A free wildcard inserted before the priced route would serve the joke free.
      writeFileSync(priced.configFile, text.replace('routes:\n', 'routes:\n  - match: GET /v1/*\n    price: free\n'))
      const reloaded = await priced.gateway.reload()
      expect(reloaded.ok).toBe(false)
      expect(!reloaded.ok && reloaded.errors).toEqual([
        `${priced.configFile}: routes[1].match: "GET /v1/joke" (price 2.00) is shadowed by routes[0].match "GET /v1/*" (price free), which comes first and takes requests such as GET /v1/joke; list the more specific route first, or set routes[0].shadows: ok if that is intended`,
      ])
      expect((await request(`${priced.url}/v1/joke`)).status).toBe(402)
    } finally {
      await priced.close()
    }
  })
})
