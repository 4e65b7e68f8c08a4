import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RawResponse, request } from '../support/http.js'
import { authorizationFor, challengeFor, problemOf, problemType } from '../support/pay.js'
import { SHARED_REDIS_URL } from '../support/redis-server.js'
import { receiptOf } from '../support/settlement.js'
import { type Stack, startStack } from '../support/stack.js'

// Issue 13 §3, `onUpstreamFailure: retry` (the default): a payer whose upstream failed after payment
// presents the same credential again and is forwarded again, without paying again, within the window
// and at most maxRetries times, one forward at a time.

const PATH = '/v1/orders'
let stack: Stack
/** what the upstream answers next: a status per hit, then 200 */
let answers: number[] = []
let delayMs = 0

beforeAll(async () => {
  stack = await startStack({
    storeUrl: SHARED_REDIS_URL,
    routes: [{ match: `GET ${PATH}`, price: '0.50', onUpstreamFailure: { window: '1m', maxRetries: 2 } }],
  })
  stack.upstream.handlers.set(PATH, (_req, res) => {
    const status = answers.shift() ?? 200
    setTimeout(() => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(status === 200 ? { order: 'ord_1' } : { error: 'retailer down' }))
    }, delayMs)
  })
})
afterAll(() => stack.close())

async function credential(): Promise<string> {
  const unpaid = await request(`${stack.gw.url}${PATH}`)
  return authorizationFor(challengeFor(unpaid), { spt: await stack.spt() })
}
const present = (authorization: string) => request(`${stack.gw.url}${PATH}`, { headers: { authorization } })
const hits = () => stack.upstream.requests.filter((r) => r.url === PATH).length
const kinds = (responses: RawResponse[]) =>
  responses.map((r) => (r.status === 200 ? '200' : `${r.status} ${problemOf(r).type ?? ''}`.trim()))

describe('onUpstreamFailure: retry', () => {
  it('a 503 after payment: the same credential is forwarded again and served, with one PaymentIntent', async () => {
    const authorization = await credential()
    const charges = stack.stripe.charges()
    answers = [503]
    const failed = await present(authorization)
    expect(failed.status).toBe(503)
    expect(failed.headers['payment-receipt']).toBeUndefined()
    const served = await present(authorization)
    expect(served.status).toBe(200)
    expect(JSON.parse(served.body)).toEqual({ order: 'ord_1' })
    expect(stack.stripe.charges() - charges).toBe(1)
    expect(receiptOf(served).reference).toMatch(/^pi_/)
    // served for good: the next presentation is a replay
    const replay = await present(authorization)
    expect(replay.status).toBe(402)
    expect(problemOf(replay).type).toBe(problemType('invalid-challenge'))
  })

  it('30 concurrent re-presentations after a 5xx forward one at a time, and at most maxRetries in all', async () => {
    const authorization = await credential()
    answers = [502, 503, 503, 503]
    expect((await present(authorization)).status).toBe(502)
    const before = hits()
    delayMs = 300
    try {
      const wave = () => Promise.all(Array.from({ length: 30 }, () => present(authorization)))
      const first = await wave()
      expect(hits() - before).toBe(1)
      expect(kinds(first).filter((k) => k === '503')).toHaveLength(1) // the retry, relayed
      expect(new Set(kinds(first).filter((k) => k !== '503'))).toEqual(
        new Set(['503 urn:mpp-gateway:problem:payment-in-progress']),
      )
      await wave()
      expect(hits() - before).toBe(2)
      // maxRetries (2) spent: refused as used, nothing more forwarded
      const third = await wave()
      expect(hits() - before).toBe(2)
      expect(new Set(kinds(third))).toEqual(new Set([`402 ${problemType('invalid-challenge')}`]))
    } finally {
      delayMs = 0
      answers = []
    }
  })

  it('a 4xx is the upstream answering: the credential is used, not retried', async () => {
    const authorization = await credential()
    answers = [409]
    expect((await present(authorization)).status).toBe(409)
    const before = hits()
    const again = await present(authorization)
    expect(again.status).toBe(402)
    expect(hits()).toBe(before)
  })
})
