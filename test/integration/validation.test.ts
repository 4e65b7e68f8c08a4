import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from '../support/http.js'
import { authorizationFor, challengeFor } from '../support/pay.js'
import { SHARED_REDIS_URL } from '../support/redis-server.js'
import { type Stack, startStack } from '../support/stack.js'

// Issue 13 §2, validation before charge: the upstream's validation path is asked, with the request's
// headers (never its credential) and body, before anything is charged.

let stack: Stack
/** what the validation path answers next; default: 200 when max_price is positive, else 400 */
let validationStatus: number | undefined

beforeAll(async () => {
  stack = await startStack({
    storeUrl: SHARED_REDIS_URL,
    routes: [
      { match: 'POST /agent/orders', price: '1.00', validate: { request: 'POST /agent/orders/validate' } },
      {
        match: 'POST /agent/quotes',
        price: '1.00',
        validate: { request: 'POST /agent/orders/validate', before: ['challenge', 'charge'] },
      },
    ],
  })
  stack.upstream.handlers.set('/agent/orders/validate', (_req, res, body) => {
    const order = JSON.parse(body || '{}') as { max_price?: number }
    const status = validationStatus ?? ((order.max_price ?? 0) > 0 ? 200 : 400)
    res.writeHead(status, { 'content-type': 'application/json', 'x-retailer': 'zinc' })
    res.end(JSON.stringify(status === 400 ? { error: 'max_price must be positive' } : { ok: status < 300 }))
  })
  for (const path of ['/agent/orders', '/agent/quotes'])
    stack.upstream.handlers.set(path, (_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ id: 'ord_1' }))
    })
})
afterAll(() => stack.close())

const post = (path: string, body: string, authorization?: string) =>
  request(`${stack.gw.url}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
  })
async function credential(path: string, body: string): Promise<string> {
  return authorizationFor(challengeFor(await post(path, body)), { spt: await stack.spt() })
}
const intentPosts = () =>
  stack.stripe.requests.filter((r) => r.path === '/v1/payment_intents' && r.method === 'POST').length
const hitsOf = (path: string) => stack.upstream.requests.filter((r) => r.url === path)

describe('validate before charge', () => {
  it('a valid order: validated with its body and no credential, then charged once and created', async () => {
    const body = JSON.stringify({ max_price: 2500 })
    const authorization = await credential('/agent/orders', body)
    const charges = stack.stripe.charges()
    const validations = hitsOf('/agent/orders/validate').length
    const res = await post('/agent/orders', body, authorization)
    expect(res.status).toBe(201)
    expect(stack.stripe.charges() - charges).toBe(1)
    const asked = hitsOf('/agent/orders/validate').slice(validations)
    expect(asked).toHaveLength(1)
    expect(asked[0]!.body).toBe(body)
    expect(asked[0]!.headers.authorization).toBeUndefined()
    expect(asked[0]!.headers['payment-receipt']).toBeUndefined()
  })

  it('an invalid order: the upstream 400 as it wrote it, nothing charged, the same credential can try again', async () => {
    const body = JSON.stringify({ max_price: -1 })
    const authorization = await credential('/agent/orders', body)
    const charges = stack.stripe.charges()
    const posts = intentPosts()
    const orders = hitsOf('/agent/orders').length
    const res = await post('/agent/orders', body, authorization)
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body)).toEqual({ error: 'max_price must be positive' })
    expect(res.headers['x-retailer']).toBe('zinc')
    expect(res.headers['payment-receipt']).toBeUndefined()
    expect(stack.stripe.charges()).toBe(charges)
    // Stripe was not even asked: the SPT is untouched
    expect(intentPosts()).toBe(posts)
    expect(hitsOf('/agent/orders')).toHaveLength(orders)
    // nothing was kept: the same credential is validated again (and refused again)
    expect((await post('/agent/orders', body, authorization)).status).toBe(400)
  })

  it('a validation path that fails: 503, nothing charged, and the retry is charged once it answers', async () => {
    const body = JSON.stringify({ max_price: 10 })
    const authorization = await credential('/agent/orders', body)
    const charges = stack.stripe.charges()
    validationStatus = 502
    try {
      const res = await post('/agent/orders', body, authorization)
      expect(res.status).toBe(503)
      expect(JSON.parse(res.body)).toMatchObject({ type: 'urn:mpp-gateway:problem:validation-unavailable' })
      expect(res.headers['retry-after']).toBeDefined()
      expect(stack.stripe.charges()).toBe(charges)
    } finally {
      validationStatus = undefined
    }
    expect((await post('/agent/orders', body, authorization)).status).toBe(201)
    expect(stack.stripe.charges() - charges).toBe(1)
  })

  it('before: challenge too: an invalid unpaid request gets the 400, a valid one its 402', async () => {
    const invalid = await post('/agent/quotes', JSON.stringify({ max_price: 0 }))
    expect(invalid.status).toBe(400)
    expect(invalid.headers['www-authenticate']).toBeUndefined()
    const valid = await post('/agent/quotes', JSON.stringify({ max_price: 5 }))
    expect(valid.status).toBe(402)
    expect(valid.headers['www-authenticate']).toMatch(/^Payment /)
  })
})
