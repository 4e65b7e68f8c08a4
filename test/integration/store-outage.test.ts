import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FakeStripe, startFakeStripe } from '../support/fake-stripe.js'
import { type TestGateway, startTestGateway } from '../support/gateway.js'
import { request } from '../support/http.js'
import { authorizationFor, challengeFor } from '../support/pay.js'
import { type RedisServer, startRedisServer } from '../support/redis-server.js'
import { type TestUpstream, startUpstream } from '../support/upstream.js'

let stripe: FakeStripe
let upstream: TestUpstream
let redis: RedisServer
let gw: TestGateway

beforeAll(async () => {
  stripe = await startFakeStripe()
  upstream = await startUpstream()
  redis = await startRedisServer()
  gw = await startTestGateway({ upstreamUrl: upstream.url, stripeUrl: stripe.url, storeUrl: redis.url })
})
afterAll(async () => {
  await gw.close()
  await redis.stop()
  await upstream.close()
  await stripe.close()
})

describe('Redis stopped', () => {
  it('fails closed: 503 with Retry-After, no charge, upstream untouched; free routes still pass; readyz is 503', async () => {
    const unpaid = await request(`${gw.url}/v1/cheap`)
    const authorization = authorizationFor(challengeFor(unpaid), { spt: await stripe.issueSpt({ paymentMethod: 'pm_card_visa', maxAmount: 10_000, currency: 'usd' }) })
    await redis.stop()

    const upstreamBefore = upstream.requests.length
    const res = await request(`${gw.url}/v1/cheap`, { headers: { authorization } })
    expect(res.status).toBe(503)
    expect(res.headers['retry-after']).toBeDefined()
    expect(res.headers['payment-receipt']).toBeUndefined()
    expect(JSON.parse(res.body).detail).toContain('nothing was charged')
    expect(stripe.charges()).toBe(0)
    expect(upstream.requests.length).toBe(upstreamBefore)

    // a free route never touches the store
    expect((await request(`${gw.url}/v1/models`)).status).toBe(200)
    expect((await request(`${gw.url}/__gateway/readyz`)).status).toBe(503)
  })
})
