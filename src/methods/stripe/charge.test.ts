import { createHash, randomBytes } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type FakeStripe, startFakeStripe } from '../../../test/support/fake-stripe.js'
import { parseDecimal } from '../../config/amount.js'
import type { DecimalAmount, RouteConfig, StripeMethodConfig } from '../../config/types.js'
import {
  BackendUnavailable,
  type ChargeRequest,
  type PaymentMethod,
  PaymentRefused,
  type SettleInput,
} from '../../core/method.js'
import { createStripeMethod, redactSecrets } from './charge.js'

const SECRET = 'sk_test_gateway_0123456789abcdef'
const PREVIEW = '2026-07-29.preview'

let fake: FakeStripe
beforeAll(async () => {
  fake = await startFakeStripe()
})
afterAll(async () => {
  await fake.close()
})
afterEach(() => {
  fake.reset()
})

function stripeConfig(overrides: Partial<StripeMethodConfig> = {}): StripeMethodConfig {
  return {
    secretKey: SECRET,
    networkId: 'profile_test',
    paymentMethodTypes: ['card', 'link'],
    apiVersion: PREVIEW,
    apiBase: fake.url,
    timeoutMs: 1000,
    cryptoApiVersion: PREVIEW,
    ...overrides,
  }
}

function decimal(text: string): DecimalAmount {
  const amount = parseDecimal(text)
  if (!amount) throw new Error(`bad decimal ${text}`)
  return amount
}

function routeFor(price: string, description?: string): RouteConfig {
  return {
    index: 0,
    match: 'GET /v1/x',
    method: 'GET',
    path: '/v1/x',
    price: { kind: 'charge', amount: decimal(price) },
    maxBodyBytes: 1024,
    mode: 'enforce',
    ...(description ? { description } : {}),
  }
}

const ROUTE = routeFor('0.50')

function requestOf(method: PaymentMethod, price = '0.50', extra: Partial<ChargeRequest> = {}): ChargeRequest {
  const quote = method.quote(decimal(price), ROUTE)
  if (!quote.ok) throw new Error(quote.reason)
  return { ...quote.request, ...extra }
}

function input(
  request: ChargeRequest,
  payload: unknown,
  challengeId = `ch_${randomBytes(16).toString('base64url')}`,
): SettleInput {
  return {
    challengeId,
    realm: 'api.example.com',
    route: ROUTE,
    request,
    payload,
    expiresAtMs: Date.now() + 300_000,
    claimOnce: async () => true,
    release: async () => {},
    settling: async (handle) => void settlingHandles.push(handle),
  }
}

/** what each settle passed to `settling`, in order */
const settlingHandles: Array<Readonly<Record<string, string>>> = []

/** The settle error, asserting it is of `type`. */
async function failure<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(type)
  return error as T
}

const creates = () => fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents')

describe('stripe quote', () => {
  // quote() never calls Stripe: an address nothing listens on will do
  const quoteConfig = (): StripeMethodConfig => ({
    secretKey: SECRET,
    networkId: 'profile_test',
    paymentMethodTypes: ['card', 'link'],
    apiVersion: PREVIEW,
    apiBase: 'http://127.0.0.1:9',
    timeoutMs: 1000,
    cryptoApiVersion: PREVIEW,
  })
  const method = createStripeMethod(quoteConfig(), 'usd')

  it('prices in cents with the method details, and carries the route description', () => {
    expect(method.quote(decimal('0.50'), ROUTE)).toEqual({
      ok: true,
      request: {
        amount: '50',
        currency: 'usd',
        methodDetails: { networkId: 'profile_test', paymentMethodTypes: ['card', 'link'] },
      },
    })
    expect(method.quote(decimal('1.25'), routeFor('1.25', 'A report'))).toEqual({
      ok: true,
      request: {
        amount: '125',
        currency: 'usd',
        description: 'A report',
        methodDetails: { networkId: 'profile_test', paymentMethodTypes: ['card', 'link'] },
      },
    })
    expect(method.quote(decimal('999999.99'), ROUTE)).toMatchObject({ ok: true, request: { amount: '99999999' } })
  })

  it("refuses fractions of a cent, amounts below Stripe's minimum (0 included) and above its maximum", () => {
    expect(method.quote(decimal('0.505'), ROUTE)).toEqual({
      ok: false,
      reason: 'Stripe charges whole cents: 0.505 usd',
    })
    expect(method.quote(decimal('0.49'), ROUTE)).toEqual({
      ok: false,
      reason: "below Stripe's minimum charge of 0.50 usd",
    })
    expect(method.quote(decimal('0'), ROUTE)).toEqual({
      ok: false,
      reason: "below Stripe's minimum charge of 0.50 usd",
    })
    expect(method.quote(decimal('1000000'), ROUTE)).toEqual({
      ok: false,
      reason: "above Stripe's maximum charge of 999999.99 usd",
    })
    // trailing zeros are fine: only the value counts
    expect(method.quote(decimal('0.5000'), ROUTE)).toMatchObject({ ok: true, request: { amount: '50' } })
  })

  it("uses each currency's decimals and minimum", () => {
    const jpy = createStripeMethod(quoteConfig(), 'JPY')
    expect(jpy.quote(decimal('50'), ROUTE)).toMatchObject({ ok: true, request: { amount: '50', currency: 'jpy' } })
    expect(jpy.quote(decimal('1.5'), ROUTE)).toEqual({
      ok: false,
      reason: 'Stripe charges whole units of jpy: 1.5 jpy',
    })
    expect(jpy.quote(decimal('49'), ROUTE)).toEqual({ ok: false, reason: "below Stripe's minimum charge of 50 jpy" })
    expect(createStripeMethod(quoteConfig(), 'gbp').quote(decimal('0.30'), ROUTE)).toMatchObject({
      ok: true,
      request: { amount: '30' },
    })
    expect(createStripeMethod(quoteConfig(), 'mxn').quote(decimal('9.99'), ROUTE)).toEqual({
      ok: false,
      reason: "below Stripe's minimum charge of 10.00 mxn",
    })
    const kwd = createStripeMethod(quoteConfig(), 'kwd')
    expect(kwd.quote(decimal('1.25'), ROUTE)).toMatchObject({ ok: true, request: { amount: '1250' } })
    expect(kwd.quote(decimal('1.255'), ROUTE)).toEqual({
      ok: false,
      reason: 'Stripe charges multiples of 0.010 kwd: 1.255 kwd',
    })
    // no known minimum: anything above zero
    const xyz = createStripeMethod(quoteConfig(), 'xyz')
    expect(xyz.quote(decimal('0.01'), ROUTE)).toMatchObject({ ok: true, request: { amount: '1' } })
    expect(xyz.quote(decimal('0'), ROUTE)).toEqual({ ok: false, reason: 'Stripe cannot charge 0 xyz' })
  })
})

describe('stripe settle', () => {
  it('charges with one PaymentIntent: preview version, challenge-bound key, SPT top-level, metadata', async () => {
    const method = createStripeMethod(stripeConfig(), 'usd')
    const spt = await fake.issueSpt({ maxAmount: 50, currency: 'usd' })
    const settleInput = input(requestOf(method), { spt })
    const settlement = await method.settle(settleInput)

    expect(creates()).toHaveLength(1)
    expect(fake.requests).toHaveLength(1)
    const [call] = creates()
    expect(call!.form).toEqual({
      amount: '50',
      currency: 'usd',
      confirm: 'true',
      'automatic_payment_methods[enabled]': 'true',
      'automatic_payment_methods[allow_redirects]': 'never',
      shared_payment_granted_token: spt,
      'metadata[mpp_challenge_id]': settleInput.challengeId,
      'metadata[mpp_realm]': 'api.example.com',
      'metadata[mpp_intent]': 'charge',
    })
    expect(call!.headers['stripe-version']).toBe(PREVIEW)
    // the SPT only as a digest: the key is kept in the settlement record, and handed over before the call
    const key = `mpp_${settleInput.challengeId}_${createHash('sha256').update(spt).digest('base64url').slice(0, 32)}`
    expect(call!.headers['idempotency-key']).toBe(key)
    expect(settlingHandles.at(-1)).toStrictEqual({ idempotencyKey: key })
    expect(call!.headers.authorization).toBe(`Bearer ${SECRET}`)

    const [intent] = [...fake.paymentIntents.values()]
    expect(intent).toMatchObject({ status: 'succeeded', amount: 50 })
    expect(settlement).toEqual({ reference: intent!.id, receipt: undefined, replayed: false })
    expect(fake.charges()).toBe(1)
  })

  it("echoes the externalId into the receipt, and requires the payload to match the challenge's", async () => {
    const method = createStripeMethod(stripeConfig(), 'usd')
    const spt = await fake.issueSpt({ maxAmount: 50, currency: 'usd' })
    const request = requestOf(method, '0.50', { externalId: 'order_1' })
    const wrong = await failure(method.settle(input(request, { spt, externalId: 'order_2' })), PaymentRefused)
    expect(wrong.problem).toBe('invalid-payload')
    await failure(method.settle(input(request, { spt })), PaymentRefused)
    expect(fake.requests).toHaveLength(0)

    const settlement = await method.settle(input(request, { spt, externalId: 'order_1' }))
    expect(settlement.receipt).toEqual({ externalId: 'order_1' })
  })

  it.each([
    ['null', null],
    ['a string', 'spt_abc'],
    ['no spt', { token: 'spt_abc' }],
    ['a number', { spt: 42 }],
    ['not an SPT', { spt: 'pm_card_visa' }],
    ['an SPT with odd characters', { spt: 'spt_abc"def' }],
    ['a non-string externalId', { spt: 'spt_abc', externalId: 7 }],
  ])('refuses a payload that is %s as invalid-payload, without calling Stripe', async (_name, payload) => {
    const method = createStripeMethod(stripeConfig(), 'usd')
    const error = await failure(method.settle(input(requestOf(method), payload)), PaymentRefused)
    expect(error.problem).toBe('invalid-payload')
    expect(fake.requests).toHaveLength(0)
  })

  it("a retry of the same credential is answered from Stripe's replay and flagged replayed", async () => {
    const method = createStripeMethod(stripeConfig(), 'usd')
    const spt = await fake.issueSpt({ maxAmount: 50, currency: 'usd' })
    const settleInput = input(requestOf(method), { spt })
    const first = await method.settle(settleInput)
    const second = await method.settle(settleInput)
    expect(second).toEqual({ ...first, replayed: true })
    expect(fake.charges()).toBe(1)
  })

  it("a declined card → verification-failed with Stripe's reason and decline code, never the SPT", async () => {
    const method = createStripeMethod(stripeConfig(), 'usd')
    const spt = await fake.issueSpt({ paymentMethod: 'pm_card_chargeDeclined', maxAmount: 50, currency: 'usd' })
    const error = await failure(method.settle(input(requestOf(method), { spt })), PaymentRefused)
    expect(error.problem).toBe('verification-failed')
    expect(error.detail).toMatch(
      /^Stripe declined the payment \[card_declined, generic_decline\] \(PaymentIntent pi_[0-9a-f]+\): Your card was declined\.$/,
    )
    expect(fake.charges()).toBe(0)
  })

  it("an SPT that was used already → verification-failed with Stripe's message", async () => {
    const method = createStripeMethod(stripeConfig(), 'usd')
    const spt = await fake.issueSpt({ maxAmount: 500, currency: 'usd' })
    await method.settle(input(requestOf(method), { spt }))
    const error = await failure(method.settle(input(requestOf(method), { spt })), PaymentRefused)
    expect(error).toMatchObject({
      problem: 'verification-failed',
      detail:
        'Stripe refused the payment: The shared payment granted token cannot be used because it is already in a deactivated state.',
    })
    expect(fake.charges()).toBe(1)
  })

  it("an amount over the SPT's limit → verification-failed", async () => {
    const method = createStripeMethod(stripeConfig(), 'usd')
    const spt = await fake.issueSpt({ maxAmount: 100, currency: 'usd' })
    const error = await failure(method.settle(input(requestOf(method, '1.25'), { spt })), PaymentRefused)
    expect(error.problem).toBe('verification-failed')
    expect(error.detail).toContain('greater than the remaining amount capturable')
  })

  it('an unknown SPT → verification-failed, with the token Stripe echoes redacted', async () => {
    const method = createStripeMethod(stripeConfig(), 'usd')
    const spt = 'spt_unknownToken123'
    const error = await failure(method.settle(input(requestOf(method), { spt })), PaymentRefused)
    expect(error.problem).toBe('verification-failed')
    expect(error.detail).toBe("Stripe refused the payment: No such shared payment granted token: 'spt_***'")
    expect(error.message).not.toContain(spt)
  })

  it("the same challenge and SPT with another amount → Stripe's idempotency_error, key redacted", async () => {
    const method = createStripeMethod(stripeConfig(), 'usd')
    const spt = await fake.issueSpt({ maxAmount: 500, currency: 'usd' })
    const challengeId = 'ch_fixed'
    await method.settle(input(requestOf(method), { spt }, challengeId))
    const error = await failure(method.settle(input(requestOf(method, '1.25'), { spt }, challengeId)), PaymentRefused)
    expect(error.problem).toBe('verification-failed')
    expect(error.detail).toContain('idempotency_error')
    expect(error.detail).toContain('mpp_ch_fixed_') // the key holds only a digest of the SPT
    expect(error.detail).not.toContain(spt)
  })

  it('3-D Secure required → payment-action-required', async () => {
    const method = createStripeMethod(stripeConfig(), 'usd')
    const spt = await fake.issueSpt({ paymentMethod: 'pm_card_authenticationRequired', maxAmount: 50, currency: 'usd' })
    const error = await failure(method.settle(input(requestOf(method), { spt })), PaymentRefused)
    expect(error.problem).toBe('payment-action-required')
    expect(error.detail).toMatch(
      /^Stripe PaymentIntent pi_[0-9a-f]+ requires an action by the payer \(use_stripe_sdk\)/,
    )
    expect(fake.charges()).toBe(0)
  })
})

describe('stripe settle when Stripe is unavailable', () => {
  it('a 500 → BackendUnavailable; nothing was saved, so the same credential then charges afresh', async () => {
    const method = createStripeMethod(stripeConfig(), 'usd')
    const spt = await fake.issueSpt({ maxAmount: 50, currency: 'usd' })
    const settleInput = input(requestOf(method), { spt })
    fake.faults.status500Next = 1
    const error = await failure(method.settle(settleInput), BackendUnavailable)
    expect(error).toMatchObject({ backend: 'stripe', detail: 'Stripe answered HTTP 500.' })
    // maxNetworkRetries 0: the SDK did not retry the 500 itself
    expect(creates()).toHaveLength(1)
    expect(await method.settle(settleInput)).toMatchObject({ replayed: false })
    expect(fake.charges()).toBe(1)
  })

  it('a timeout → BackendUnavailable; Stripe charged anyway, so the retry is a flagged replay', async () => {
    const method = createStripeMethod(stripeConfig({ timeoutMs: 300 }), 'usd')
    const spt = await fake.issueSpt({ maxAmount: 50, currency: 'usd' })
    const settleInput = input(requestOf(method), { spt })
    fake.faults.delayMs = 600
    const error = await failure(method.settle(settleInput), BackendUnavailable)
    expect(error.detail).toBe('Stripe did not answer within 300 ms.')
    fake.faults.delayMs = 0

    // While the first attempt still runs at Stripe, a retry gets 409 idempotency_key_in_use.
    const busy = await failure(method.settle(settleInput), BackendUnavailable)
    expect(busy.detail).toBe('Stripe is still processing an earlier attempt with this credential.')

    await new Promise((r) => setTimeout(r, 500))
    const settlement = await method.settle(settleInput)
    expect(settlement.replayed).toBe(true)
    expect(fake.charges()).toBe(1)
  })

  it('connection refused (Stripe down) → BackendUnavailable', async () => {
    const gone = await startFakeStripe()
    await gone.close()
    const method = createStripeMethod(stripeConfig({ apiBase: gone.url }), 'usd')
    const error = await failure(method.settle(input(requestOf(method), { spt: 'spt_abc' })), BackendUnavailable)
    expect(error).toMatchObject({ backend: 'stripe', detail: 'Could not reach Stripe.' })
  })

  it('a dropped connection is retried once by the SDK (same key); two in a row → BackendUnavailable', async () => {
    const method = createStripeMethod(stripeConfig(), 'usd')
    const spt = await fake.issueSpt({ maxAmount: 500, currency: 'usd' })
    fake.faults.dropConnectionNext = 1
    const settleInput = input(requestOf(method), { spt })
    expect(await method.settle(settleInput)).toMatchObject({ replayed: false })
    const [key, retried] = creates().map((r) => r.headers['idempotency-key'])
    expect(retried).toBe(key)
    expect(key).toMatch(new RegExp(`^mpp_${settleInput.challengeId}_[A-Za-z0-9_-]{32}$`))

    const spt2 = await fake.issueSpt({ maxAmount: 500, currency: 'usd' })
    fake.faults.dropConnectionNext = 2
    const error = await failure(method.settle(input(requestOf(method), { spt: spt2 })), BackendUnavailable)
    expect(error.detail).toBe('Could not reach Stripe.')
    expect(fake.charges()).toBe(1)
  })

  it("a wrong API key → BackendUnavailable (the operator's problem), without the key in the detail", async () => {
    const badKey = 'sk_live_not_a_valid_key_98765'
    const method = createStripeMethod(stripeConfig({ secretKey: badKey }), 'usd')
    const spt = await fake.issueSpt({ maxAmount: 50, currency: 'usd' })
    const error = await failure(method.settle(input(requestOf(method), { spt })), BackendUnavailable)
    expect(error).toMatchObject({ backend: 'stripe', detail: "Stripe rejected the gateway's API key." })
    expect(error.cause).toBeUndefined()
  })
})

describe('redactSecrets', () => {
  it('masks SPTs, API keys, auth headers and any exact secret', () => {
    expect(redactSecrets("No such token: 'spt_1N4Zv32eZvKYlo2CPhVPkJlW'")).toBe("No such token: 'spt_***'")
    expect(redactSecrets('key sk_live_abc123 and rk_test_zz9')).toBe('key sk_live_*** and rk_test_***')
    expect(redactSecrets('Authorization: Bearer abc.def and Basic c2tfdGVzdDo=')).toBe(
      'Authorization: Bearer *** and Basic ***',
    )
    expect(redactSecrets('weird secret-shape here', ['secret-shape'])).toBe('weird *** here')
  })
})
