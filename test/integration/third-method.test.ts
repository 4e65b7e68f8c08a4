import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeJson } from '../../src/protocol/challenge.js'
import { parse as parseReceipt } from '../../src/protocol/receipt.js'
import { methodPlugins } from '../../src/methods/index.js'
import { startTestGateway, type TestGateway } from '../support/gateway.js'
import { request } from '../support/http.js'
import { signVoucher, voucherPlugin } from '../support/methods/voucher/plugin.js'
import { authorizationFor, challengeFor, challengesOf, problemOf, problemType } from '../support/pay.js'
import { startUpstream, type TestUpstream } from '../support/upstream.js'

const VOUCHER_SECRET = 'voucher-desk-shared-secret-0123456789'

let upstream: TestUpstream
let gw: TestGateway

beforeAll(async () => {
  upstream = await startUpstream()
  gw = await startTestGateway({
    upstreamUrl: upstream.url,
    plugins: [...methodPlugins, voucherPlugin],
    extra: { methods: { voucher: { secret: VOUCHER_SECRET, issuer: 'test-desk' } } },
    routes: [
      { match: 'GET /v1/free', price: 'free' },
      { match: 'GET /v1/vouchered', price: '0.50', methods: ['voucher'] },
    ],
  })
})
afterAll(async () => {
  await gw?.close()
  await upstream?.close()
})

describe('a gateway with a third, test-only payment method', () => {
  it('answers 402 with a voucher challenge quoting the route price', async () => {
    const res = await request(`${gw.url}/v1/vouchered`)
    expect(res.status).toBe(402)
    const challenges = challengesOf(res)
    expect(challenges.map((c) => c.method)).toEqual(['voucher'])
    expect(decodeJson(challenges[0]!.request)).toEqual({
      amount: '50',
      currency: 'usd',
      methodDetails: { issuer: 'test-desk', decimals: 2 },
    })
    expect(problemOf(res).type).toBe(problemType('payment-required'))
  })

  it('forwards a request paid with a valid voucher, with a receipt, once', async () => {
    const challenge = challengeFor(await request(`${gw.url}/v1/vouchered`), 'voucher')
    const authorization = authorizationFor(challenge, { voucher: signVoucher(VOUCHER_SECRET, challenge.id) })

    const paid = await request(`${gw.url}/v1/vouchered`, { headers: { authorization } })
    expect(paid.status).toBe(200)
    const receipt = parseReceipt(paid.headers['payment-receipt'] as string)
    expect(receipt).toMatchObject({
      status: 'success',
      method: 'voucher',
      reference: `voucher_${challenge.id.slice(0, 16)}`,
    })
    expect(upstream.requests.at(-1)!.url).toBe('/v1/vouchered')
    // the credential is removed before forwarding
    expect(upstream.requests.at(-1)!.headers.authorization).toBeUndefined()

    const reused = await request(`${gw.url}/v1/vouchered`, { headers: { authorization } })
    expect(reused.status).toBe(402)
    expect(problemOf(reused).type).toBe(problemType('invalid-challenge'))
    expect(reused.headers['payment-receipt']).toBeUndefined()
    expect(challengesOf(reused).map((c) => c.method)).toEqual(['voucher'])
  })

  it('describes its offers in /llms.txt in its own words', async () => {
    const res = await request(`${gw.url}/llms.txt`)
    expect(res.status).toBe(200)
    expect(res.body).toContain('- Accepted methods: voucher.')
    expect(res.body).toContain('- `GET /v1/vouchered`: a voucher worth 0.50 usd (voucher)')
  })

  it('refuses a voucher signed with another secret, and forwards nothing', async () => {
    const before = upstream.requests.length
    const challenge = challengeFor(await request(`${gw.url}/v1/vouchered`), 'voucher')
    const forged = authorizationFor(challenge, { voucher: signVoucher('x'.repeat(40), challenge.id) })
    const res = await request(`${gw.url}/v1/vouchered`, { headers: { authorization: forged } })
    expect(res.status).toBe(402)
    expect(problemOf(res)).toMatchObject({
      type: problemType('verification-failed'),
      detail: 'The voucher is not signed by the voucher desk.',
    })
    expect(upstream.requests.length).toBe(before)
  })
})
