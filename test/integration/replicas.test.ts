import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type GatewayProcess, spawnGateway } from '../support/cli.js'
import { type FakeStripe, startFakeStripe } from '../support/fake-stripe.js'
import { writeTestConfig } from '../support/gateway.js'
import { request } from '../support/http.js'
import { authorizationFor, challengeFor, problemOf, problemType } from '../support/pay.js'
import { SHARED_REDIS_URL } from '../support/redis-server.js'
import { type TestUpstream, startUpstream } from '../support/upstream.js'

let stripe: FakeStripe
let upstream: TestUpstream
let replicas: GatewayProcess[]

beforeAll(async () => {
  stripe = await startFakeStripe()
  upstream = await startUpstream()
  const keyPrefix = `test:replicas:${process.pid}:${Date.now()}:`
  const config = writeTestConfig({
    upstreamUrl: upstream.url,
    stripeUrl: stripe.url,
    storeUrl: SHARED_REDIS_URL,
    keyPrefix,
  })
  replicas = await Promise.all([spawnGateway(config), spawnGateway(config)])
})
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()))
  await upstream.close()
  await stripe.close()
})

describe('two gateway processes on one Redis', () => {
  it('a challenge issued by one replica is paid at the other', async () => {
    const unpaid = await request(`${replicas[0]!.url}/v1/cheap`)
    const authorization = authorizationFor(challengeFor(unpaid), {
      spt: await stripe.issueSpt({ paymentMethod: 'pm_card_visa', maxAmount: 10_000, currency: 'usd' }),
    })
    expect((await request(`${replicas[1]!.url}/v1/cheap`, { headers: { authorization } })).status).toBe(200)
    const replay = await request(`${replicas[0]!.url}/v1/cheap`, { headers: { authorization } })
    expect(problemOf(replay).type).toBe(problemType('invalid-challenge'))
  })

  it('one credential presented 50 times across both: one success, one Stripe charge, one forward', async () => {
    const unpaid = await request(`${replicas[0]!.url}/v1/cheap`)
    const authorization = authorizationFor(challengeFor(unpaid), {
      spt: await stripe.issueSpt({ paymentMethod: 'pm_card_visa', maxAmount: 10_000, currency: 'usd' }),
    })
    const charges = stripe.charges()
    const forwarded = upstream.requests.length
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => request(`${replicas[i % 2]!.url}/v1/cheap`, { headers: { authorization } })),
    )
    expect(results.filter((r) => r.status === 200)).toHaveLength(1)
    expect(stripe.charges() - charges).toBe(1)
    expect(upstream.requests.length - forwarded).toBe(1)
  })

  it('logs neither the credential nor the SPT nor the keys', () => {
    const output = replicas.flatMap((r) => r.output).join('')
    expect(output).not.toMatch(/spt_[A-Za-z0-9]/)
    expect(output).not.toContain('sk_test_')
    expect(output).not.toContain('test-secret-key')
    expect(output).not.toMatch(/Payment ey/)
  })
})
