import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseReceipt } from '../../src/protocol/receipt.js'
import { type FakeStripe, startFakeStripe } from '../support/fake-stripe.js'
import { type TestGateway, startTestGateway } from '../support/gateway.js'
import { request } from '../support/http.js'
import { authorizationFor, challengeFor } from '../support/pay.js'
import { type RawUpstream, type WireRequest, rawExchange, startRawUpstream } from '../support/raw-upstream.js'

// Issue 11 item 1: a body on a method Node's client sends unframed (GET, HEAD, DELETE, OPTIONS)
// must never reach the upstream as a second request, nor its answer the next client.

let stripe: FakeStripe
let upstream: RawUpstream
let gw: TestGateway

beforeAll(async () => {
  stripe = await startFakeStripe()
  // Answers held back a little: an extra answer is still in flight when the pooled socket is reused.
  upstream = await startRawUpstream({ responseDelayMs: 30 })
  gw = await startTestGateway({
    upstreamUrl: upstream.url,
    stripeUrl: stripe.url,
    routes: [
      { match: 'GET /v1/paid', price: '0.50' },
      { match: 'GET /v1/trial', price: '0.50', mode: 'shadow' },
      { match: '* /free/*', price: 'free' },
    ],
  })
})
afterAll(async () => {
  await gw.close()
  await upstream.close()
  await stripe.close()
})

const SMUGGLED = 'GET /v1/paid?smuggled=1 HTTP/1.1\r\nHost: upstream\r\n\r\n'
const chunked = (te: string, extension = '') =>
  `Transfer-Encoding: ${te}\r\n\r\n${SMUGGLED.length.toString(16)}${extension}\r\n${SMUGGLED}\r\n0\r\n\r\n`
const ATTACKS: Array<[string, string]> = [
  ['chunked', chunked('chunked')],
  ['Chunked', chunked('Chunked')],
  ['" chunked "', chunked(' chunked ')],
  ['a chunk extension', chunked('chunked', ';ext=1')],
  ['Connection: content-length', `Content-Length: ${SMUGGLED.length}\r\nConnection: content-length\r\n\r\n${SMUGGLED}`],
]
const TARGETS: Array<[string, string]> = [
  ['GET', '/free/a'],
  ['HEAD', '/free/a'],
  ['DELETE', '/free/a'],
  ['OPTIONS', '/free/a'],
  ['GET', '/v1/trial'],
]
const cases = TARGETS.flatMap(([method, path]) =>
  ATTACKS.map(([spelling, tail]) => [method, path, spelling, tail] as const),
)

/** The upstream requests one client request caused, waiting out the held-back answers. */
async function upstreamRequestsDuring(send: () => Promise<unknown>): Promise<WireRequest[]> {
  const before = upstream.requests.length
  await send()
  await new Promise((r) => setTimeout(r, 80))
  return upstream.requests.slice(before)
}

describe("a body on a free or shadow route reaches the upstream as that request's body, framed", () => {
  it.each(cases)('%s %s with %s: one upstream request, carrying the body', async (method, path, _spelling, tail) => {
    let answer = ''
    const seen = await upstreamRequestsDuring(async () => {
      answer = await rawExchange(
        gw.url,
        `${method} ${path} HTTP/1.1\r\nHost: gw.example\r\nConnection: close\r\n${tail}`,
      )
    })
    expect(
      seen.map((r) => `${r.method} ${r.target}`),
      upstream.bytes(seen[0]?.connection ?? 0),
    ).toEqual([`${method} ${path}`])
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    const [forwarded] = seen
    // exactly one framing, matching the bytes sent
    expect(forwarded!.body).toBe(SMUGGLED)
    const framing = [upstream.header(forwarded!, 'content-length'), upstream.header(forwarded!, 'transfer-encoding')]
    expect(framing).toEqual(
      forwarded!.framing === 'chunked' ? [undefined, 'chunked'] : [String(SMUGGLED.length), undefined],
    )
  })

  it('a request without a body goes without one, whatever the method', async () => {
    for (const method of ['GET', 'HEAD', 'DELETE', 'OPTIONS', 'POST']) {
      const seen = await upstreamRequestsDuring(() => request(`${gw.url}/free/empty`, { method }))
      expect(
        seen.map((r) => [r.method, r.framing, r.body]),
        method,
      ).toEqual([[method, method === 'POST' ? 'length' : 'none', '']])
    }
  })

  it('refuses a transfer coding it cannot re-frame with 501, forwarding nothing', async () => {
    const seen = await upstreamRequestsDuring(async () => {
      const answer = await rawExchange(
        gw.url,
        `POST /free/a HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
      )
      expect(answer).toMatch(/^HTTP\/1\.1 501 Not Implemented\r\n/)
      expect(answer).toContain('"type":"urn:mpp-gateway:problem:unsupported-transfer-coding"')
    })
    expect(seen).toEqual([])
  })
})

describe('a body on a paid GET', () => {
  it("is bound by its digest and forwarded as that request's body with a Content-Length", async () => {
    const chunkedBody = { body: SMUGGLED, headers: { 'transfer-encoding': 'chunked' } }
    const unpaid = await request(`${gw.url}/v1/paid`, chunkedBody)
    const challenge = challengeFor(unpaid)
    expect(challenge.digest).toMatch(/^sha-256=/)
    const authorization = authorizationFor(challenge, {
      spt: await stripe.issueSpt({ paymentMethod: 'pm_card_visa', maxAmount: 10_000, currency: 'usd' }),
    })
    const seen = await upstreamRequestsDuring(async () => {
      const paid = await request(`${gw.url}/v1/paid`, {
        body: SMUGGLED,
        headers: { 'transfer-encoding': 'chunked', authorization },
      })
      expect(paid.status).toBe(200)
    })
    expect(seen.map((r) => [r.method, r.target, r.framing, r.body])).toEqual([['GET', '/v1/paid', 'length', SMUGGLED]])
  })

  it('in a transfer coding that cannot be re-framed is refused with 501 before any challenge', async () => {
    const answer = await rawExchange(
      gw.url,
      `GET /v1/paid HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
    )
    expect(answer).toMatch(/^HTTP\/1\.1 501 Not Implemented\r\n/)
    expect(answer).not.toMatch(/WWW-Authenticate/i)
  })
})

describe('the next client on the pooled upstream socket gets its own answer', () => {
  it('a free victim after a smuggling attempt', async () => {
    const seen = await upstreamRequestsDuring(async () => {
      await rawExchange(gw.url, `GET /free/attacker HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n${chunked('chunked')}`)
      const victim = await request(`${gw.url}/free/victim`)
      expect(JSON.parse(victim.body)).toMatchObject({ method: 'GET', target: '/free/victim' })
    })
    expect(seen.map((r) => r.target)).toEqual(['/free/attacker', '/free/victim'])
    // the victim really went over the attacker's upstream connection
    expect(seen[1]!.connection).toBe(seen[0]!.connection)
  })

  it('a paying victim gets the answer to its own request with its receipt, and /v1/paid ran once', async () => {
    const unpaid = await request(`${gw.url}/v1/paid`)
    const authorization = authorizationFor(challengeFor(unpaid), {
      spt: await stripe.issueSpt({ paymentMethod: 'pm_card_visa', maxAmount: 10_000, currency: 'usd' }),
    })
    const seen = await upstreamRequestsDuring(async () => {
      await rawExchange(
        gw.url,
        `DELETE /free/attacker HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n${chunked('Chunked', ';x=y')}`,
      )
      const victim = await request(`${gw.url}/v1/paid`, { headers: { authorization } })
      expect(victim.status).toBe(200)
      expect(JSON.parse(victim.body)).toMatchObject({ method: 'GET', target: '/v1/paid' })
      expect(parseReceipt(victim.headers['payment-receipt'] as string)).toMatchObject({
        status: 'success',
        method: 'stripe',
      })
    })
    expect(seen.map((r) => `${r.method} ${r.target}`)).toEqual(['DELETE /free/attacker', 'GET /v1/paid'])
    expect(upstream.header(seen[1]!, 'payment-receipt')).toBeDefined()
    expect(seen[1]!.connection).toBe(seen[0]!.connection)
  })
})
