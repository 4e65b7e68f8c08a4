import http, { type IncomingHttpHeaders } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseReceipt } from '../../src/protocol/receipt.js'
import type { LedgerEntry } from '../../src/store/types.js'
import { headerLines, request } from '../support/http.js'
import { authorizationFor, challengeFor, problemOf } from '../support/pay.js'
import { type Stack, startStack } from '../support/stack.js'
import type { UpstreamHandler } from '../support/upstream.js'

// Issue 11 item 4: what a hostile or confused upstream answers never turns into a receipt, a
// relayed payment challenge, or a ledger entry that says "200" for something the payer did not get.

let stack: Stack
let gw: Stack['gw']
let upstream: Stack['upstream']

beforeAll(async () => {
  stack = await startStack()
  ;({ gw, upstream } = stack)
})
afterAll(() => stack.close())

const FOREIGN_CHALLENGE = 'Payment id="foreign", realm="evil.example", method="stripe", intent="charge", request="e30"'

/** Serves `path` with `handler` for the duration of `run`. */
async function withHandler<T>(path: string, handler: UpstreamHandler, run: () => Promise<T>): Promise<T> {
  upstream.handlers.set(path, handler)
  try {
    return await run()
  } finally {
    upstream.handlers.delete(path)
  }
}

/** An Authorization header paying for GET /v1/cheap (0.50, Stripe). */
async function paidAuthorization(): Promise<{ authorization: string; challengeId: string }> {
  const challenge = challengeFor(await request(`${gw.url}/v1/cheap`))
  return { authorization: authorizationFor(challenge, { spt: await stack.spt() }), challengeId: challenge.id }
}

async function ledgerEntry(challengeId: string): Promise<LedgerEntry> {
  await expect
    .poll(async () => (await gw.gateway.store.ledger()).some((e) => e.challengeId === challengeId), { timeout: 3000 })
    .toBe(true)
  return (await gw.gateway.store.ledger()).find((e) => e.challengeId === challengeId)!
}

async function paidUpstreamFailures(): Promise<number> {
  const line = (await gw.gateway.metrics.render())
    .split('\n')
    .find((l) => l.startsWith('mpp_paid_upstream_failed_total{route="GET /v1/cheap"}'))
  return line ? Number(line.split(' ').at(-1)) : 0
}

/** A GET that resolves however the response ends (a cut body is an error to the usual helper). */
function getToTheEnd(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', () => {})
      res.on('close', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          complete: res.complete,
        }),
      )
    })
    req.on('error', reject)
  })
}

describe('free routes', () => {
  it('never relay an upstream Payment-Receipt', async () => {
    const res = await withHandler(
      '/public/receipt',
      (_req, res) => {
        res.writeHead(200, { 'Payment-Receipt': 'eyJzdGF0dXMiOiJzdWNjZXNzIn0', 'Content-Type': 'text/plain' })
        res.end('free')
      },
      () => request(`${gw.url}/public/receipt`),
    )
    expect(res.status).toBe(200)
    expect(res.body).toBe('free')
    expect(headerLines(res, 'payment-receipt')).toEqual([])
  })

  it.each([
    ['a 402', 402, { 'WWW-Authenticate': FOREIGN_CHALLENGE }],
    ['a 402 without a challenge', 402, {}],
    [
      'a 401 with a Payment challenge after a Bearer one',
      401,
      { 'WWW-Authenticate': `Bearer realm="api", ${FOREIGN_CHALLENGE}` },
    ],
  ])('answer 502 for %s from the upstream, relaying none of it', async (_what, status, headers) => {
    const res = await withHandler(
      '/public/pay-me',
      (_req, res) => {
        res.writeHead(status, { ...headers, 'Content-Type': 'application/json' })
        res.end('{"pay":"me"}')
      },
      () => request(`${gw.url}/public/pay-me`),
    )
    expect(res.status).toBe(502)
    expect(headerLines(res, 'www-authenticate')).toEqual([])
    expect(problemOf(res)).toEqual({
      type: 'urn:mpp-gateway:problem:upstream-payment-challenge',
      title: 'Bad Gateway',
      status: 502,
      detail: 'The upstream asked for payment itself; the gateway relays no payment challenge it did not issue.',
    })
  })

  it('relay a 401 with another scheme as it is', async () => {
    const res = await withHandler(
      '/public/login',
      (_req, res) => {
        res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="api"' })
        res.end('log in')
      },
      () => request(`${gw.url}/public/login`),
    )
    expect(res.status).toBe(401)
    expect(headerLines(res, 'www-authenticate')).toEqual(['Bearer realm="api"'])
    expect(res.body).toBe('log in')
  })
})

describe('paid routes', () => {
  it("a complete 2xx: one receipt, the gateway's (an upstream one is dropped); the ledger says served, with bytes", async () => {
    const { authorization, challengeId } = await paidAuthorization()
    const res = await withHandler(
      '/v1/cheap',
      (_req, res) => {
        res.writeHead(200, { 'Payment-Receipt': 'eyJmb3JnZWQiOnRydWV9', 'Content-Length': 11 })
        res.end('hello world')
      },
      () => request(`${gw.url}/v1/cheap`, { headers: { authorization } }),
    )
    expect(res.status).toBe(200)
    const lines = headerLines(res, 'payment-receipt')
    expect(lines).toHaveLength(1)
    expect(parseReceipt(lines[0]!)).toMatchObject({ status: 'success', method: 'stripe' })
    expect(await ledgerEntry(challengeId)).toMatchObject({
      upstreamStatus: 200,
      outcome: 'served',
      bytesSent: 11,
      bytesExpected: 11,
    })
  })

  it('an upstream 402: the payer gets 502 and no receipt; ledger, metric and log say so', async () => {
    const { authorization, challengeId } = await paidAuthorization()
    const failuresBefore = await paidUpstreamFailures()
    const res = await withHandler(
      '/v1/cheap',
      (_req, res) => {
        res.writeHead(402, { 'WWW-Authenticate': FOREIGN_CHALLENGE })
        res.end()
      },
      () => request(`${gw.url}/v1/cheap`, { headers: { authorization } }),
    )
    expect(res.status).toBe(502)
    expect(problemOf(res).type).toBe('urn:mpp-gateway:problem:upstream-payment-challenge')
    expect(headerLines(res, 'www-authenticate')).toEqual([])
    expect(headerLines(res, 'payment-receipt')).toEqual([])
    const entry = await ledgerEntry(challengeId)
    expect(entry).toMatchObject({ upstreamStatus: 402, outcome: 'upstream-challenge' })
    expect(await paidUpstreamFailures()).toBe(failuresBefore + 1)
    const logged = gw.logs
      .map((line) => JSON.parse(line))
      .find(
        (line) =>
          line.msg === 'payment settled but the upstream did not serve it; refund or serve manually' &&
          line.challengeId === challengeId,
      )
    expect(logged).toMatchObject({
      outcome: 'upstream-challenge',
      upstreamStatus: 402,
      failure: 'payment-challenge',
      reference: entry.reference,
    })
  })

  it("an upstream 503: the payer gets the upstream's answer without a receipt; the ledger says upstream-error", async () => {
    const { authorization, challengeId } = await paidAuthorization()
    const failuresBefore = await paidUpstreamFailures()
    const res = await withHandler(
      '/v1/cheap',
      (_req, res) => {
        res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '5' })
        res.end('down')
      },
      () => request(`${gw.url}/v1/cheap`, { headers: { authorization } }),
    )
    expect(res.status).toBe(503)
    expect(res.body).toBe('down')
    expect(res.headers['retry-after']).toBe('5')
    expect(headerLines(res, 'payment-receipt')).toEqual([])
    expect(await ledgerEntry(challengeId)).toMatchObject({
      upstreamStatus: 503,
      outcome: 'upstream-error',
      bytesSent: 4,
    })
    expect(await paidUpstreamFailures()).toBe(failuresBefore + 1)
  })

  it('an upstream 404: relayed without a receipt', async () => {
    const { authorization, challengeId } = await paidAuthorization()
    const res = await withHandler(
      '/v1/cheap',
      (_req, res) => {
        res.writeHead(404)
        res.end('no such thing')
      },
      () => request(`${gw.url}/v1/cheap`, { headers: { authorization } }),
    )
    expect(res.status).toBe(404)
    expect(headerLines(res, 'payment-receipt')).toEqual([])
    expect(await ledgerEntry(challengeId)).toMatchObject({
      upstreamStatus: 404,
      outcome: 'upstream-error',
      bytesSent: 13,
    })
  })

  it.each([
    ['a Content-Length body', { 'Content-Length': '2048' }, { bytesExpected: 2048 }],
    ['a chunked body', {}, {}],
  ])('%s cut short after a 200 is recorded as cut, with the bytes sent', async (_what, headers, expected) => {
    const { authorization, challengeId } = await paidAuthorization()
    const failuresBefore = await paidUpstreamFailures()
    const res = await withHandler(
      '/v1/cheap',
      (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain', ...headers })
        res.write('hello')
        setTimeout(() => res.socket?.destroy(), 50)
      },
      () => getToTheEnd(`${gw.url}/v1/cheap`, { authorization }),
    )
    expect(res.status).toBe(200)
    expect(res.body).toBe('hello')
    // the payer can tell: its response ends short too
    expect(res.complete).toBe(false)
    const entry = await ledgerEntry(challengeId)
    expect(entry).toMatchObject({ upstreamStatus: 200, outcome: 'cut', bytesSent: 5, ...expected })
    if (!('bytesExpected' in expected)) expect(entry.bytesExpected).toBeUndefined()
    expect(await paidUpstreamFailures()).toBe(failuresBefore + 1)
  })
})
