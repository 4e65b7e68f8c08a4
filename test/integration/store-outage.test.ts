import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from '../support/http.js'
import { authorizationFor, challengeFor } from '../support/pay.js'
import { type RedisServer, startRedisServer } from '../support/redis-server.js'
import { type Stack, startStack } from '../support/stack.js'

let redis: RedisServer
let stack: Stack

beforeAll(async () => {
  redis = await startRedisServer()
  stack = await startStack({ storeUrl: redis.url })
})
afterAll(async () => {
  await stack.close()
  await redis.stop()
})

describe('Redis stopped', () => {
  it('fails closed: 503 with Retry-After, no charge, upstream untouched; free routes still pass; readyz is 503', async () => {
    const { gw, stripe, upstream } = stack
    const unpaid = await request(`${gw.url}/v1/cheap`)
    const authorization = authorizationFor(challengeFor(unpaid), { spt: await stack.spt() })
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
