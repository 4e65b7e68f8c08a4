import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { computeId, decodeJson } from '../../src/protocol/challenge.js'
import { parse as parseReceipt } from '../../src/protocol/receipt.js'
import { startTestGateway, TEST_SECRET } from '../support/gateway.js'
import { headerLines, request } from '../support/http.js'
import { authorizationFor, challengeFor, challengesOf, problemOf, problemType } from '../support/pay.js'
import { SHARED_REDIS_URL } from '../support/redis-server.js'
import { type Stack, startStack } from '../support/stack.js'

let stack: Stack
let stripe: Stack['stripe']
let upstream: Stack['upstream']
let gw: Stack['gw']
const spt = (paymentMethod?: string) => stack.spt(paymentMethod)

beforeAll(async () => {
  stack = await startStack({ storeUrl: SHARED_REDIS_URL })
  ;({ stripe, upstream, gw } = stack)
})
afterAll(() => stack.close())
afterEach(() => {
  stripe.faults.status500Next = 0
  stripe.faults.delayMs = 0
})

/** 402 → SPT → paid retry, as a client would do it. */
async function pay(path: string, options: { method?: string; body?: string; paymentMethod?: string } = {}) {
  const unpaid = await request(gw.url + path, {
    method: options.method,
    body: options.body,
    headers: options.body ? { 'content-type': 'application/json' } : {},
  })
  expect(unpaid.status).toBe(402)
  const challenge = challengeFor(unpaid)
  const authorization = authorizationFor(challenge, { spt: await spt(options.paymentMethod) })
  return { challenge, authorization, unpaid }
}

describe('unpaid request to a priced route', () => {
  it('gets a 402 with one challenge per line, no-store and a problem document', async () => {
    const res = await request(`${gw.url}/v1/cheap`)
    expect(res.status).toBe(402)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.headers['content-type']).toBe('application/problem+json')
    const lines = headerLines(res, 'www-authenticate')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      /^Payment id="[A-Za-z0-9_-]{43}", realm="api\.example\.com", method="stripe", intent="charge", request="[A-Za-z0-9_-]+", expires="[^"]+", opaque="[A-Za-z0-9_-]+"$/,
    )
    const [challenge] = challengesOf(res)
    expect(decodeJson(challenge!.request)).toEqual({
      amount: '50',
      currency: 'usd',
      methodDetails: { networkId: 'profile_test', paymentMethodTypes: ['card'] },
    })
    // the route, and 256 bits of per-issuance randomness that make the id unique (issue 11)
    expect(decodeJson(challenge!.opaque!)).toEqual({
      route: 'GET /v1/cheap',
      _mppx_nonce: expect.stringMatching(/^0x[0-9a-f]{64}$/),
    })
    expect(problemOf(res)).toEqual({
      type: problemType('payment-required'),
      title: 'Payment Required',
      status: 402,
      detail: 'Payment is required.',
      challengeId: challenge!.id,
    })
    expect(upstream.requests.some((r) => r.url === '/v1/cheap')).toBe(false)
  })

  it('binds a body digest in the mppx form and carries the route description', async () => {
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: '{"model":"m"}',
      headers: { 'content-type': 'application/json' },
    })
    const challenge = challengeFor(res)
    expect(challenge.digest).toMatch(/^sha-256=[A-Za-z0-9+/]+=*$/)
    expect(challenge.description).toBe('Chat completion')
    expect(problemOf(res).detail).toBe('Payment is required: Chat completion.')
  })
})

describe('paying', () => {
  it('402 → pay → 200 with a verifiable receipt; the credential never reaches the upstream', async () => {
    const { challenge, authorization } = await pay('/v1/reports/42?format=json')
    const res = await request(`${gw.url}/v1/reports/42?format=json`, {
      headers: { authorization: `Bearer upstream-token, ${authorization}` },
    })
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body)).toMatchObject({ ok: true, url: '/v1/reports/42?format=json' })
    const receipt = parseReceipt(res.headers['payment-receipt'] as string)
    const intent = [...stripe.paymentIntents.values()].find((pi) => pi.metadata?.mpp_challenge_id === challenge.id)
    expect(receipt).toMatchObject({ status: 'success', method: 'stripe', reference: intent!.id })
    expect(Date.parse(receipt.timestamp)).not.toBeNaN()
    expect(res.headers['cache-control']).toBe('private')

    const seen = upstream.requests.at(-1)!
    expect(seen.url).toBe('/v1/reports/42?format=json')
    expect(seen.headers.authorization).toBe('Bearer upstream-token')
    expect(JSON.stringify(seen.rawHeaders)).not.toContain(authorization.slice('Payment '.length, 60))
    expect(seen.headers['payment-receipt']).toBe(res.headers['payment-receipt'])
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1')

    const ledger = await gw.gateway.store.ledger()
    expect(ledger.find((e) => e.challengeId === challenge.id)).toMatchObject({
      route: 'GET /v1/reports/:id',
      method: 'stripe',
      amount: '125',
      currency: 'usd',
      reference: intent!.id,
      upstreamStatus: 200,
    })
  })

  it('charges Stripe once with the preview API version and the challenge-bound idempotency key', async () => {
    const before = stripe.requests.length
    const { challenge, authorization } = await pay('/v1/cheap')
    expect((await request(`${gw.url}/v1/cheap`, { headers: { authorization } })).status).toBe(200)
    const calls = stripe.requests.slice(before).filter((r) => r.path === '/v1/payment_intents')
    expect(calls).toHaveLength(1)
    expect(calls[0]!.headers['stripe-version']).toBe('2026-07-29.preview')
    // the SPT enters the key only as a digest: the key is kept in the settlement record
    expect(calls[0]!.headers['idempotency-key']).toMatch(new RegExp(`^mpp_${challenge.id}_[A-Za-z0-9_-]{32}$`))
    expect(calls[0]!.form).toMatchObject({
      amount: '50',
      currency: 'usd',
      confirm: 'true',
      'automatic_payment_methods[allow_redirects]': 'never',
    })
  })

  it('rejects a replayed credential with invalid-challenge and a fresh challenge', async () => {
    const { authorization } = await pay('/v1/cheap')
    expect((await request(`${gw.url}/v1/cheap`, { headers: { authorization } })).status).toBe(200)
    const upstreamCount = upstream.requests.length
    const replay = await request(`${gw.url}/v1/cheap`, { headers: { authorization } })
    expect(replay.status).toBe(402)
    expect(problemOf(replay)).toMatchObject({
      type: problemType('invalid-challenge'),
      detail: 'This challenge has already been used.',
    })
    expect(challengesOf(replay)).toHaveLength(1)
    expect(replay.headers['payment-receipt']).toBeUndefined()
    expect(upstream.requests.length).toBe(upstreamCount)
  })

  it('50 concurrent presentations of one credential: one success, one Stripe charge, one forward', async () => {
    const { challenge, authorization } = await pay('/v1/cheap')
    const chargesBefore = stripe.charges()
    const upstreamBefore = upstream.requests.length
    const results = await Promise.all(
      Array.from({ length: 50 }, () => request(`${gw.url}/v1/cheap`, { headers: { authorization } })),
    )
    expect(results.filter((r) => r.status === 200)).toHaveLength(1)
    expect(
      results.filter((r) => r.status === 402).every((r) => problemOf(r).type === problemType('invalid-challenge')),
    ).toBe(true)
    expect(stripe.charges() - chargesBefore).toBe(1)
    expect(upstream.requests.length - upstreamBefore).toBe(1)
    expect((await gw.gateway.store.ledger()).filter((e) => e.challengeId === challenge.id)).toHaveLength(1)
  })

  it('keeps upstream Cache-Control directives and adds private', async () => {
    upstream.handlers.set('/v1/cheap', (_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'public, max-age=60', 'Content-Type': 'text/plain' })
      res.end('cached')
    })
    try {
      const { authorization } = await pay('/v1/cheap')
      const res = await request(`${gw.url}/v1/cheap`, { headers: { authorization } })
      expect(res.headers['cache-control']).toBe('max-age=60, private')
    } finally {
      upstream.handlers.delete('/v1/cheap')
    }
  })
})

describe('credentials that must not open a route', () => {
  it('tampered amount → invalid-challenge', async () => {
    const { challenge } = await pay('/v1/cheap')
    const request_ = decodeJson(challenge.request) as Record<string, unknown>
    const tampered = {
      ...challenge,
      request: Buffer.from(JSON.stringify({ ...request_, amount: '1' })).toString('base64url'),
    }
    const res = await request(`${gw.url}/v1/cheap`, {
      headers: { authorization: authorizationFor(tampered, { spt: await spt() }) },
    })
    expect(problemOf(res).type).toBe(problemType('invalid-challenge'))
  })

  it('a credential bought for another route at the same price → invalid-challenge, no charge', async () => {
    const { authorization } = await pay('/v1/cheap')
    const charges = stripe.charges()
    const res = await request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization } })
    expect(res.status).toBe(402)
    expect(problemOf(res)).toMatchObject({
      type: problemType('invalid-challenge'),
      detail: 'The challenge was issued for another route.',
    })
    expect(stripe.charges()).toBe(charges)
  })

  it('a challenge of another realm with the same key → invalid-challenge', async () => {
    const other = await startTestGateway({
      upstreamUrl: upstream.url,
      stripeUrl: stripe.url,
      extra: { realm: 'other.example.com' },
    })
    try {
      const unpaid = await request(`${other.url}/v1/cheap`)
      const authorization = authorizationFor(challengeFor(unpaid), { spt: await spt() })
      const res = await request(`${gw.url}/v1/cheap`, { headers: { authorization } })
      expect(problemOf(res)).toMatchObject({ type: problemType('invalid-challenge') })
      expect(problemOf(res).detail).toContain('other.example.com')
    } finally {
      await other.close()
    }
  })

  it('an expired challenge → payment-expired, with a fresh challenge', async () => {
    const { challenge } = await pay('/v1/cheap')
    const expired = { ...challenge, expires: new Date(Date.now() - 1000).toISOString() }
    expired.id = computeId(TEST_SECRET, expired)
    const res = await request(`${gw.url}/v1/cheap`, {
      headers: { authorization: authorizationFor(expired, { spt: await spt() }) },
    })
    expect(res.status).toBe(402)
    expect(problemOf(res).type).toBe(problemType('payment-expired'))
    expect(challengesOf(res)[0]!.id).not.toBe(expired.id)
  })

  it('a retry whose body differs from the digest → invalid-challenge, no charge', async () => {
    const { authorization } = await pay('/v1/chat/completions', { method: 'POST', body: '{"prompt":"cheap"}' })
    const charges = stripe.charges()
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body: '{"prompt":"a much longer and pricier prompt"}',
      headers: { authorization, 'content-type': 'application/json' },
    })
    expect(problemOf(res)).toMatchObject({
      type: problemType('invalid-challenge'),
      detail: 'The request body does not match the digest the challenge was issued for.',
    })
    expect(stripe.charges()).toBe(charges)
  })

  it('the same body with the digest passes, and the upstream gets that body', async () => {
    const body = '{"prompt":"hello"}'
    const { authorization } = await pay('/v1/chat/completions', { method: 'POST', body })
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      body,
      headers: { authorization, 'content-type': 'application/json' },
    })
    expect(res.status).toBe(200)
    expect(upstream.requests.at(-1)!.body).toBe(body)
  })

  it('a challenge signed with another key → invalid-challenge', async () => {
    const { challenge } = await pay('/v1/cheap')
    const forged = { ...challenge, id: computeId('another-secret-key-that-is-long-enough-000', challenge) }
    const res = await request(`${gw.url}/v1/cheap`, {
      headers: { authorization: authorizationFor(forged, { spt: await spt() }) },
    })
    expect(problemOf(res)).toMatchObject({
      type: problemType('invalid-challenge'),
      detail: 'The challenge was not issued by this gateway, or was altered.',
    })
  })

  it('garbage → malformed-credential; over 16 KiB → malformed without parsing; two credentials → 400', async () => {
    const garbage = await request(`${gw.url}/v1/cheap`, { headers: { authorization: 'Payment !!!not-base64!!!' } })
    expect(problemOf(garbage).type).toBe(problemType('malformed-credential'))
    expect(challengesOf(garbage)).toHaveLength(1)

    const big = await request(`${gw.url}/v1/cheap`, { headers: { authorization: `Payment ${'A'.repeat(17 * 1024)}` } })
    expect(big.status).toBe(402)
    expect(problemOf(big)).toMatchObject({ type: problemType('malformed-credential') })
    expect(problemOf(big).detail).toContain('16 KiB')

    const { authorization } = await pay('/v1/cheap')
    const twoInOne = await request(`${gw.url}/v1/cheap`, {
      headers: { authorization: `${authorization}, ${authorization}` },
    })
    expect(twoInOne.status).toBe(400)
    const twoLines = await request(`${gw.url}/v1/cheap`, { headers: { authorization: [authorization, authorization] } })
    expect(twoLines.status).toBe(400)
    // neither used it up
    expect((await request(`${gw.url}/v1/cheap`, { headers: { authorization } })).status).toBe(200)
  })

  it('accepts a credential of about 8 KiB', async () => {
    const { challenge } = await pay('/v1/cheap')
    const authorization = authorizationFor(challenge, { spt: await spt(), padding: 'x'.repeat(6000) })
    expect(authorization.length).toBeGreaterThan(8000)
    const res = await request(`${gw.url}/v1/cheap`, { headers: { authorization } })
    expect(res.status).toBe(200)
  })
})

describe('refused payments', () => {
  it("a declined card → verification-failed with Stripe's reason and a fresh challenge; the challenge can be paid again", async () => {
    const { challenge } = await pay('/v1/cheap')
    const declined = await request(`${gw.url}/v1/cheap`, {
      headers: { authorization: authorizationFor(challenge, { spt: await spt('pm_card_chargeDeclined') }) },
    })
    expect(declined.status).toBe(402)
    const problem = problemOf(declined)
    expect(problem.type).toBe(problemType('verification-failed'))
    expect(problem.detail).toContain('declined')
    expect(problem.detail).not.toMatch(/spt_[A-Za-z0-9]/)
    expect(challengesOf(declined)).toHaveLength(1)
    expect(declined.headers['payment-receipt']).toBeUndefined()

    const retried = await request(`${gw.url}/v1/cheap`, {
      headers: { authorization: authorizationFor(challenge, { spt: await spt() }) },
    })
    expect(retried.status).toBe(200)
  })

  it('3-D Secure required → payment-action-required', async () => {
    const { challenge } = await pay('/v1/cheap')
    const res = await request(`${gw.url}/v1/cheap`, {
      headers: { authorization: authorizationFor(challenge, { spt: await spt('pm_card_authenticationRequired') }) },
    })
    expect(problemOf(res).type).toBe(problemType('payment-action-required'))
  })

  it('an SPT that was already used → verification-failed', async () => {
    const token = await spt()
    const first = await pay('/v1/cheap')
    expect(
      (
        await request(`${gw.url}/v1/cheap`, {
          headers: { authorization: authorizationFor(first.challenge, { spt: token }) },
        })
      ).status,
    ).toBe(200)
    const second = await pay('/v1/cheap')
    const res = await request(`${gw.url}/v1/cheap`, {
      headers: { authorization: authorizationFor(second.challenge, { spt: token }) },
    })
    expect(problemOf(res).type).toBe(problemType('verification-failed'))
    expect(problemOf(res).detail).toContain('deactivated')
  })

  it('a payload without an SPT → invalid-payload', async () => {
    const { challenge } = await pay('/v1/cheap')
    const res = await request(`${gw.url}/v1/cheap`, {
      headers: { authorization: authorizationFor(challenge, { token: 'x' }) },
    })
    expect(problemOf(res).type).toBe(problemType('invalid-payload'))
  })
})

describe('Stripe outages fail closed and lose nothing', () => {
  it('Stripe 500 → 503, upstream untouched; the same credential then succeeds', async () => {
    const { authorization } = await pay('/v1/cheap')
    const upstreamBefore = upstream.requests.length
    stripe.faults.status500Next = 1
    const down = await request(`${gw.url}/v1/cheap`, { headers: { authorization } })
    expect(down.status).toBe(503)
    expect(down.headers['retry-after']).toBeDefined()
    expect(upstream.requests.length).toBe(upstreamBefore)
    const again = await request(`${gw.url}/v1/cheap`, { headers: { authorization } })
    expect(again.status).toBe(200)
  })

  it('a Stripe timeout that charged anyway: 503, then the retry is served once from the idempotent replay', async () => {
    const { authorization } = await pay('/v1/cheap')
    const chargesBefore = stripe.charges()
    stripe.faults.delayMs = 1500 // the gateway's Stripe timeout is 1s in tests
    const timedOut = await request(`${gw.url}/v1/cheap`, { headers: { authorization } })
    expect(timedOut.status).toBe(503)
    stripe.faults.delayMs = 0
    await new Promise((r) => setTimeout(r, 700)) // the fake finishes the charge it was sent
    const retried = await request(`${gw.url}/v1/cheap`, { headers: { authorization } })
    expect(retried.status).toBe(200)
    expect(stripe.charges() - chargesBefore).toBe(1)
    const replay = await request(`${gw.url}/v1/cheap`, { headers: { authorization } })
    expect(problemOf(replay).type).toBe(problemType('invalid-challenge'))
  })
})

describe('readiness', () => {
  const readiness = async () => {
    const res = await request(`${gw.url}/__gateway/readyz`)
    return { status: res.status, checks: JSON.parse(res.body).checks as Record<string, string> }
  }
  const probes = () => stripe.requests.filter((r) => r.method === 'GET' && r.path === '/v1/payment_intents').length

  it('follows Stripe: 503 naming stripe while it is unreachable, ready again once it answers', async () => {
    expect(await readiness()).toMatchObject({ status: 200, checks: { store: 'ok', stripe: 'ok' } })
    stripe.faults.down = true
    try {
      await expect
        .poll(readiness, { timeout: 5_000, interval: 200 })
        .toMatchObject({ status: 503, checks: { store: 'ok', stripe: 'unavailable: Could not reach Stripe.' } })
    } finally {
      stripe.faults.down = false
    }
    await expect.poll(readiness, { timeout: 5_000, interval: 200 }).toMatchObject({ status: 200 })
  })

  it('a Stripe key that Stripe refuses does not take the replica out of service (Stripe is reachable)', async () => {
    const refused = await startTestGateway({
      upstreamUrl: upstream.url,
      extra: {
        methods: {
          stripe: {
            secretKey: 'sk_live_not_accepted_here',
            networkId: 'profile_test',
            apiBase: stripe.url,
            timeout: '1s',
          },
        },
      },
    })
    try {
      const before = probes()
      const res = await request(`${refused.url}/__gateway/readyz`)
      expect(probes() - before).toBe(1)
      expect(res.status).toBe(200)
      expect(JSON.parse(res.body).checks).toMatchObject({ stripe: 'ok' })
    } finally {
      await refused.close()
    }
  })

  it('a burst of polls costs at most one Stripe call', async () => {
    const before = probes()
    const answers = await Promise.all(Array.from({ length: 30 }, readiness))
    expect(answers.every((a) => a.status === 200)).toBe(true)
    expect(probes() - before).toBeLessThanOrEqual(1)
  })
})

describe('logs', () => {
  it('hold no credential, SPT, Stripe key or HMAC key after all the flows above', () => {
    const log = gw.logs.join('')
    expect(log.length).toBeGreaterThan(0)
    expect(log).not.toMatch(/spt_[A-Za-z0-9]/)
    expect(log).not.toContain('sk_test_')
    expect(log).not.toContain(TEST_SECRET)
    expect(log).not.toMatch(/Payment ey/)
    expect(log).not.toMatch(/"authorization"/i)
  })
})
