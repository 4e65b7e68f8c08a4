import { Challenge as MppxChallenge, Receipt as MppxReceipt } from 'mppx'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TEST_SECRET } from '../support/gateway.js'
import { headerLines, request } from '../support/http.js'
import { mppxStripeClient } from '../support/mppx-stripe.js'
import { SHARED_REDIS_URL } from '../support/redis-server.js'
import { type Stack, startStack } from '../support/stack.js'

let stack: Stack
let stripe: Stack['stripe']
let upstream: Stack['upstream']
let gw: Stack['gw']

beforeAll(async () => {
  stack = await startStack({ storeUrl: SHARED_REDIS_URL })
  ;({ stripe, upstream, gw } = stack)
})
afterAll(() => stack.close())

function mppxClient() {
  const tokens: Array<{ amount: string; currency: string; networkId: string | undefined }> = []
  const client = mppxStripeClient(stripe, ({ amount, currency, networkId }) =>
    tokens.push({ amount, currency, networkId }),
  )
  return { client, tokens }
}

describe('the mppx client pays through the gateway', () => {
  it('GET a priced route: 402 → SPT → 200 with a receipt mppx can read', async () => {
    const { client, tokens } = mppxClient()
    const res = await client.fetch(`${gw.url}/v1/reports/7`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ ok: true, url: '/v1/reports/7' })
    expect(tokens).toEqual([{ amount: '125', currency: 'usd', networkId: 'profile_test' }])
    const receipt = MppxReceipt.deserialize(res.headers.get('payment-receipt')!)
    expect(receipt).toMatchObject({ method: 'stripe', status: 'success' })
    expect(receipt.reference).toMatch(/^pi_/)
  })

  it('POST with a body: mppx echoes the digest and the body goes through', async () => {
    const { client } = mppxClient()
    const res = await client.fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'x' }),
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(200)
    expect(upstream.requests.at(-1)).toMatchObject({ method: 'POST', body: '{"model":"x"}' })
  })

  it('mppx parses our challenge and verifies its id with the same key', async () => {
    const res = await request(`${gw.url}/v1/cheap`)
    const [line] = headerLines(res, 'www-authenticate')
    const parsed = MppxChallenge.deserialize(line!)
    expect(parsed).toMatchObject({ realm: 'api.example.com', method: 'stripe', intent: 'charge' })
    expect(MppxChallenge.verify(parsed, { secretKey: TEST_SECRET })).toBe(true)
  })
})
