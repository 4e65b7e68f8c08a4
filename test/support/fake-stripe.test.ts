import Stripe from 'stripe'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { StripeMethodConfig } from '../../src/config/types.js'
import { createClient } from '../../src/methods/stripe/charge.js'
import { type FakeCharge, type FakeStripe, parseForm, startFakeStripe } from './fake-stripe.js'

// Pins the fake's Stripe rules over plain HTTP, independently of the SDK and the gateway.

const KEY = 'sk_test_fake_0123456789'
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

interface Answer {
  status: number
  headers: Headers
  json: { error?: Record<string, unknown> } & Record<string, unknown>
}

async function call(
  method: string,
  path: string,
  form: Record<string, string> = {},
  headers: Record<string, string> = {},
  url = fake.url,
): Promise<Answer> {
  const res = await fetch(url + path, {
    method,
    headers: {
      authorization: `Bearer ${KEY}`,
      'stripe-version': PREVIEW,
      ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...headers,
    },
    body: method === 'POST' ? new URLSearchParams(form).toString() : undefined,
  })
  return { status: res.status, headers: res.headers, json: (await res.json()) as Answer['json'] }
}

function chargeForm(spt: string, amount = '50', currency = 'usd'): Record<string, string> {
  return {
    amount,
    currency,
    confirm: 'true',
    'automatic_payment_methods[enabled]': 'true',
    'automatic_payment_methods[allow_redirects]': 'never',
    shared_payment_granted_token: spt,
    'metadata[mpp_challenge_id]': 'ch_1',
  }
}

const charge = (spt: string, key?: string, form = chargeForm(spt)) =>
  call('POST', '/v1/payment_intents', form, key ? { 'idempotency-key': key } : {})

describe('fake Stripe: SPTs and PaymentIntents', () => {
  it('issues an SPT through the test helper, charges it once and reports the intent and the token', async () => {
    const issued = await call('POST', '/v1/test_helpers/shared_payment/granted_tokens', {
      payment_method: 'pm_card_visa',
      'usage_limits[currency]': 'usd',
      'usage_limits[max_amount]': '1000',
      'usage_limits[expires_at]': String(Math.floor(Date.now() / 1000) + 600),
    })
    expect(issued.status).toBe(200)
    expect(issued.json).toMatchObject({
      object: 'shared_payment.granted_token',
      usage_limits: { currency: 'usd', max_amount: 1000 },
      deactivated_reason: null,
    })
    const spt = issued.json.id as string
    expect(spt).toMatch(/^spt_[a-z0-9]+$/)

    const paid = await charge(spt, 'k1')
    expect(paid.status).toBe(200)
    expect(paid.json).toMatchObject({
      object: 'payment_intent',
      amount: 50,
      amount_received: 50,
      currency: 'usd',
      status: 'succeeded',
      metadata: { mpp_challenge_id: 'ch_1' },
    })
    expect(paid.json.id).toMatch(/^pi_/)
    expect(paid.json.latest_charge).toMatch(/^ch_/)
    expect(paid.headers.get('idempotent-replayed')).toBeNull()
    expect(fake.charges()).toBe(1)

    const intent = await call('GET', `/v1/payment_intents/${String(paid.json.id)}`)
    expect(intent.json).toMatchObject({ id: paid.json.id, status: 'succeeded' })
    const token = await call('GET', `/v1/shared_payment/granted_tokens/${spt}`)
    expect(token.json).toMatchObject({
      id: spt,
      deactivated_reason: 'consumed',
      usage_details: { amount_captured: { value: 50, currency: 'usd' } },
    })
    expect((await call('GET', '/v1/payment_intents/pi_nope')).json.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'resource_missing',
    })

    const seen = fake.requests.find((r) => r.path === '/v1/payment_intents')!
    expect(seen.form['automatic_payment_methods[allow_redirects]']).toBe('never')
    expect(seen.params).toMatchObject({
      automatic_payment_methods: { enabled: 'true', allow_redirects: 'never' },
      metadata: { mpp_challenge_id: 'ch_1' },
    })
    expect(seen.headers['idempotency-key']).toBe('k1')
  })

  it('an SPT is single use: a second charge gets the deactivated-state 400, with no code', async () => {
    const spt = await fake.issueSpt({ maxAmount: 1000, currency: 'usd' })
    expect((await charge(spt, 'a')).status).toBe(200)
    const again = await charge(spt, 'b')
    expect(again.status).toBe(400)
    expect(again.json.error).toEqual({
      type: 'invalid_request_error',
      message: 'The shared payment granted token cannot be used because it is already in a deactivated state.',
    })
    expect(fake.charges()).toBe(1)
  })

  it('refuses an amount over the remaining limit, another currency, an expired and an unknown token', async () => {
    const spt = await fake.issueSpt({ maxAmount: 100, currency: 'usd' })
    const over = await charge(spt, undefined, chargeForm(spt, '101'))
    expect(over.status).toBe(400)
    expect(over.json.error).toEqual({
      type: 'invalid_request_error',
      message:
        'The requested amount is greater than the remaining amount capturable with this shared payment granted token.',
    })
    const eur = await charge(spt, undefined, chargeForm(spt, '100', 'eur'))
    expect(eur.status).toBe(400)
    expect(eur.json.error).toMatchObject({ type: 'invalid_request_error', param: 'currency' })

    const expired = await fake.issueSpt({
      maxAmount: 100,
      currency: 'usd',
      expiresAt: Math.floor(Date.now() / 1000) - 1,
    })
    expect((await charge(expired)).json.error).toMatchObject({ message: expect.stringContaining('deactivated state') })
    expect(fake.sharedPaymentTokens.get(expired)!.deactivated_reason).toBe('expired')

    const unknown = await charge('spt_unknown123')
    expect(unknown.status).toBe(400)
    expect(unknown.json.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'resource_missing',
      message: "No such shared payment granted token: 'spt_unknown123'",
    })
    expect(fake.charges()).toBe(0)
    expect(fake.paymentIntents.size).toBe(0)
  })

  it('a declined card is an HTTP 402 card_error carrying the failed intent; the SPT stays usable', async () => {
    const spt = await fake.issueSpt({ paymentMethod: 'pm_card_chargeDeclined', maxAmount: 1000, currency: 'usd' })
    const declined = await charge(spt, 'd1')
    expect(declined.status).toBe(402)
    expect(declined.json.error).toMatchObject({
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'generic_decline',
      message: 'Your card was declined.',
      payment_intent: { object: 'payment_intent', status: 'requires_payment_method' },
    })
    expect(fake.charges()).toBe(0)
    expect(fake.sharedPaymentTokens.get(spt)!.deactivated_reason).toBeNull()
  })

  it('3-D Secure: 200 with requires_action and a use_stripe_sdk next_action, no charge', async () => {
    const spt = await fake.issueSpt({
      paymentMethod: 'pm_card_authenticationRequired',
      maxAmount: 1000,
      currency: 'usd',
    })
    const res = await charge(spt)
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({ status: 'requires_action', next_action: { type: 'use_stripe_sdk' } })
    expect(fake.charges()).toBe(0)
  })

  it('validates before executing: GA versions do not know the SPT parameter; redirects need return_url', async () => {
    const spt = await fake.issueSpt({ maxAmount: 1000, currency: 'usd' })
    const ga = await call('POST', '/v1/payment_intents', chargeForm(spt), { 'stripe-version': '2026-10-28.endive' })
    expect(ga.status).toBe(400)
    expect(ga.json.error).toMatchObject({ code: 'parameter_unknown', param: 'shared_payment_granted_token' })
    const { 'automatic_payment_methods[allow_redirects]': _omit, ...redirects } = chargeForm(spt)
    expect((await charge(spt, undefined, redirects)).json.error).toMatchObject({
      message: expect.stringContaining('return_url'),
    })
    expect((await charge(spt, undefined, { ...chargeForm(spt), amount: '' })).status).toBe(400)
    expect(
      (await call('GET', `/v1/shared_payment/granted_tokens/${spt}`, {}, { 'stripe-version': '2026-10-28.endive' }))
        .status,
    ).toBe(404)
    expect(fake.paymentIntents.size).toBe(0)
  })
})

describe('fake Stripe: idempotency', () => {
  it('replays the first answer for the same key and parameters, with Idempotent-Replayed: true', async () => {
    const spt = await fake.issueSpt({ maxAmount: 1000, currency: 'usd' })
    const first = await charge(spt, 'same')
    const second = await charge(spt, 'same')
    expect(second.status).toBe(200)
    expect(second.json).toEqual(first.json)
    expect(second.headers.get('idempotent-replayed')).toBe('true')
    expect(second.headers.get('original-request')).toBe(first.headers.get('request-id'))
    expect(fake.paymentIntents.size).toBe(1)
    expect(fake.charges()).toBe(1)
  })

  it('replays errors too: a decline stays a decline under its key', async () => {
    const spt = await fake.issueSpt({ paymentMethod: 'pm_card_chargeDeclined', maxAmount: 1000, currency: 'usd' })
    const first = await charge(spt, 'dec')
    const second = await charge(spt, 'dec')
    expect(second.status).toBe(402)
    expect(second.json).toEqual(first.json)
    expect(second.headers.get('idempotent-replayed')).toBe('true')
    expect(fake.paymentIntents.size).toBe(1)
  })

  it('the same key with other parameters → 400 idempotency_error, nothing executed', async () => {
    const spt = await fake.issueSpt({ maxAmount: 1000, currency: 'usd' })
    await charge(spt, 'k')
    const other = await charge(spt, 'k', chargeForm(spt, '60'))
    expect(other.status).toBe(400)
    expect(other.json.error).toMatchObject({ type: 'idempotency_error' })
    expect(fake.paymentIntents.size).toBe(1)
  })

  it('a duplicate while the first is still executing → 409 idempotency_key_in_use', async () => {
    const spt = await fake.issueSpt({ maxAmount: 1000, currency: 'usd' })
    fake.faults.delayMs = 200
    const [a, b] = await Promise.all([
      charge(spt, 'slow'),
      new Promise((r) => setTimeout(r, 50)).then(() => charge(spt, 'slow')),
    ])
    expect(a.status).toBe(200)
    expect(b.status).toBe(409)
    expect(b.json.error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_in_use' })
    fake.faults.delayMs = 0
    expect((await charge(spt, 'slow')).headers.get('idempotent-replayed')).toBe('true')
  })

  it.each([0, 30])(
    '50 simultaneous creates with one key (delay %i ms): one intent, one charge, the rest 409 or replays',
    async (delayMs) => {
      const spt = await fake.issueSpt({ maxAmount: 1000, currency: 'usd' })
      fake.faults.delayMs = delayMs
      const results = await Promise.all(Array.from({ length: 50 }, () => charge(spt, 'burst')))
      expect(fake.paymentIntents.size).toBe(1)
      expect(fake.charges()).toBe(1)
      const originals = results.filter((r) => r.status === 200 && r.headers.get('idempotent-replayed') === null)
      const replays = results.filter((r) => r.status === 200 && r.headers.get('idempotent-replayed') === 'true')
      const conflicts = results.filter((r) => r.status === 409)
      expect(originals).toHaveLength(1)
      expect(replays.length + conflicts.length).toBe(49)
      for (const r of replays) expect(r.json.id).toBe(originals[0]!.json.id)
    },
  )

  it('keys are per account, and nothing is saved for a request refused before executing (auth)', async () => {
    const spt = await fake.issueSpt({ maxAmount: 1000, currency: 'usd' })
    const unauthorized = await call('POST', '/v1/payment_intents', chargeForm(spt), {
      authorization: 'Bearer sk_live_wrong_000000000',
      'idempotency-key': 'auth',
    })
    expect(unauthorized.status).toBe(401)
    const ok = await charge(spt, 'auth')
    expect(ok.status).toBe(200)
    expect(ok.headers.get('idempotent-replayed')).toBeNull()
  })
})

describe('fake Stripe: auth', () => {
  it('accepts sk_test_ keys as Bearer or Basic, refuses others with a masked key', async () => {
    const basic = Buffer.from(`${KEY}:`).toString('base64')
    expect((await call('GET', '/v1/payment_intents/pi_x', {}, { authorization: `Basic ${basic}` })).status).toBe(404)
    const none = await call('GET', '/v1/payment_intents/pi_x', {}, { authorization: '' })
    expect(none.status).toBe(401)
    expect(none.json.error).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringContaining('did not provide an API key'),
    })
    const wrong = await call(
      'GET',
      '/v1/payment_intents/pi_x',
      {},
      { authorization: 'Bearer sk_live_secret_abcdefgh1234' },
    )
    expect(wrong.status).toBe(401)
    expect(wrong.json.error).toEqual({ type: 'invalid_request_error', message: 'Invalid API Key provided: sk_***1234' })
  })

  it('takes an explicit list of valid keys', async () => {
    const strict = await startFakeStripe({ validKeys: ['sk_test_only'] })
    try {
      expect((await call('GET', '/v1/payment_intents/pi_x', {}, {}, strict.url)).status).toBe(401)
      expect(
        (await call('GET', '/v1/payment_intents/pi_x', {}, { authorization: 'Bearer sk_test_only' }, strict.url))
          .status,
      ).toBe(404)
    } finally {
      await strict.close()
    }
  })
})

describe('fake Stripe: faults', () => {
  it('status500Next answers 500 api_error without executing or saving', async () => {
    const spt = await fake.issueSpt({ maxAmount: 1000, currency: 'usd' })
    fake.faults.status500Next = 1
    const down = await charge(spt, 'f')
    expect(down.status).toBe(500)
    expect(down.json.error).toEqual({ type: 'api_error', message: 'An unknown error occurred' })
    expect(fake.paymentIntents.size).toBe(0)
    const up = await charge(spt, 'f')
    expect(up.status).toBe(200)
    expect(up.headers.get('idempotent-replayed')).toBeNull()
  })

  it('dropConnectionNext destroys the connection without an answer and executes nothing', async () => {
    const spt = await fake.issueSpt({ maxAmount: 1000, currency: 'usd' })
    fake.faults.dropConnectionNext = 1
    await expect(charge(spt, 'drop')).rejects.toThrow()
    expect(fake.paymentIntents.size).toBe(0)
    expect(fake.faults.dropConnectionNext).toBe(0)
    expect((await charge(spt, 'drop')).status).toBe(200)
  })

  it('delayMs holds the answer; reset() clears state and faults', async () => {
    fake.faults.delayMs = 150
    const started = Date.now()
    await call('GET', '/v1/payment_intents/pi_x')
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    await fake.issueSpt({ maxAmount: 1, currency: 'usd' })
    fake.reset()
    expect(fake.faults).toEqual({ status500Next: 0, delayMs: 0, dropConnectionNext: 0, down: false })
    expect(fake.requests).toHaveLength(0)
    expect(fake.sharedPaymentTokens.size).toBe(0)
  })
})

describe('parseForm', () => {
  it('nests bracketed keys and makes arrays of indexed or empty brackets', () => {
    expect(parseForm('a=1&b[c]=2&b[d][e]=3&l[0]=x&l[1]=y&m[]=p&m[]=q&__proto__[x]=1')).toEqual({
      a: '1',
      b: { c: '2', d: { e: '3' } },
      l: ['x', 'y'],
      m: ['p', 'q'],
    })
    expect(parseForm('metadata%5Bk%5D=v%20w')).toEqual({ metadata: { k: 'v w' } })
  })
})

describe('fake Stripe: crypto deposits (research/stripe.md §4)', () => {
  const HASH = `0x${'ab'.repeat(32)}`
  const cryptoForm = (mode: string, extra: Record<string, string>) => ({
    amount: '125',
    currency: 'usd',
    confirm: 'true',
    'payment_method_types[]': 'crypto',
    'payment_method_data[type]': 'crypto',
    'payment_method_options[crypto][mode]': mode,
    ...extra,
  })

  it('lists nothing, creates a deposit address on a network, then lists it (preview versions only)', async () => {
    expect((await call('GET', '/v1/crypto/deposit_addresses?network=tempo&limit=1')).json).toMatchObject({
      object: 'list',
      data: [],
    })
    const created = await call('POST', '/v1/crypto/deposit_addresses', { network: 'tempo' })
    expect(created.json).toMatchObject({
      object: 'crypto.deposit_address',
      network: 'tempo',
      supported_tokens: [
        { token_currency: 'usdc', token_contract_address: '0x20c0000000000000000000000000000000000000' },
      ],
    })
    expect(created.json.address).toMatch(/^0x[0-9a-f]{40}$/)
    expect((await call('GET', '/v1/crypto/deposit_addresses?network=tempo&limit=1')).json.data).toEqual([created.json])
    expect((await call('GET', '/v1/crypto/deposit_addresses?network=base&limit=1')).json.data).toEqual([])
    expect(
      (await call('GET', '/v1/crypto/deposit_addresses', {}, { 'stripe-version': '2026-10-28.endive' })).status,
    ).toBe(404)
  })

  it('deposit mode: requires_action with an address per network, then succeeded once Stripe sees the deposit', async () => {
    const intent = await call(
      'POST',
      '/v1/payment_intents',
      cryptoForm('deposit', { 'payment_method_options[crypto][deposit_options][networks][]': 'tempo' }),
    )
    expect(intent.status).toBe(200)
    expect(intent.json).toMatchObject({
      status: 'requires_action',
      amount: 125,
      next_action: { type: 'crypto_display_details' },
    })
    const address = (
      intent.json.next_action as { crypto_display_details: { deposit_addresses: Record<string, { address: string }> } }
    ).crypto_display_details.deposit_addresses.tempo!.address
    expect(fake.depositIntentFor(address)?.id).toBe(intent.json.id)
    const id = String(intent.json.id)
    const simulated = await call('POST', `/v1/test_helpers/payment_intents/${id}/simulate_crypto_deposit`, {
      transaction_hash: HASH,
    })
    expect(simulated.json).toMatchObject({ status: 'succeeded', amount_received: 125, crypto_transaction_hash: HASH })
    expect((await call('GET', `/v1/payment_intents/${id}`)).json.status).toBe('succeeded')
    expect(fake.depositIntentFor(address)?.id).toBe(id)
  })

  it('transaction verification: records one succeeded intent per transaction hash under its idempotency key', async () => {
    const form = cryptoForm('transaction_verification', {
      'payment_method_options[crypto][transaction_verification_options][network]': 'tempo',
      'payment_method_options[crypto][transaction_verification_options][transaction_hash]': HASH,
    })
    const first = await call('POST', '/v1/payment_intents', form, { 'idempotency-key': HASH })
    const again = await call('POST', '/v1/payment_intents', form, { 'idempotency-key': HASH })
    expect(first.json).toMatchObject({ status: 'succeeded', amount_received: 125 })
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(fake.cryptoRecords(HASH)).toHaveLength(1)
  })

  it('refuses crypto intents without a preview version or with a bad mode', async () => {
    const ga = await call(
      'POST',
      '/v1/payment_intents',
      cryptoForm('deposit', { 'payment_method_options[crypto][deposit_options][networks][]': 'tempo' }),
      { 'stripe-version': '2026-10-28.endive' },
    )
    expect(ga.status).toBe(400)
    expect((await call('POST', '/v1/payment_intents', cryptoForm('magic', {}))).json.error).toMatchObject({
      param: 'payment_method_options[crypto][mode]',
    })
  })

  it('is unreachable while down, test helpers excepted', async () => {
    fake.faults.down = true
    await expect(call('GET', '/v1/crypto/deposit_addresses?network=tempo')).rejects.toThrow()
    fake.faults.down = false
    expect((await call('GET', '/v1/crypto/deposit_addresses?network=tempo')).status).toBe(200)
  })
})

describe('fake Stripe: refunds, through the stripe SDK client the gateway builds', () => {
  /** the gateway's client (no retries of its own) pointed at the fake */
  const sdk = (timeoutMs = 5_000): Stripe =>
    createClient({
      secretKey: KEY,
      networkId: 'profile_test',
      paymentMethodTypes: ['card'],
      apiVersion: PREVIEW,
      apiBase: fake.url,
      timeoutMs,
      cryptoApiVersion: PREVIEW,
    } satisfies StripeMethodConfig)
  const options = (idempotencyKey?: string) => ({ apiVersion: PREVIEW, ...(idempotencyKey ? { idempotencyKey } : {}) })

  /** a succeeded PaymentIntent of `amount` cents */
  async function paidIntent(amount = 500): Promise<string> {
    const spt = await fake.issueSpt({ maxAmount: amount, currency: 'usd' })
    const paid = await charge(spt, undefined, chargeForm(spt, String(amount)))
    expect(paid.json).toMatchObject({ status: 'succeeded', amount_received: amount })
    return paid.json.id as string
  }
  const latestCharge = async (pi: string): Promise<FakeCharge> =>
    (await call('GET', `/v1/payment_intents/${pi}?expand[0]=latest_charge`)).json.latest_charge as unknown as FakeCharge
  /** the Stripe error a refused SDK call throws */
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a Stripe error')
      },
      (error: unknown) => {
        if (!(error instanceof Stripe.errors.StripeError)) throw error
        return { class: error.constructor.name, status: error.statusCode, ...(error.raw as object) }
      },
    )

  it('a full refund (no amount) returns the whole charge: refund object, amount_refunded, charge refunded', async () => {
    const pi = await paidIntent(500)
    const stripe = sdk()
    const refund = await stripe.refunds.create({ payment_intent: pi }, options('mpp_refund_ch_full'))
    const chargeId = fake.paymentIntents.get(pi)!.latest_charge
    expect(refund).toMatchObject({
      object: 'refund',
      amount: 500,
      currency: 'usd',
      payment_intent: pi,
      charge: chargeId,
      status: 'succeeded',
      reason: null,
      metadata: {},
    })
    expect(refund.id).toMatch(/^re_[0-9a-f]{24}$/)
    expect(fake.refunded(pi)).toBe(500)
    expect(fake.paymentIntents.get(pi)!.amount_refunded).toBe(500)
    expect(await latestCharge(pi)).toMatchObject({
      id: chargeId,
      object: 'charge',
      amount: 500,
      amount_captured: 500,
      amount_refunded: 500,
      refunded: true,
    })
    expect(await stripe.charges.retrieve(chargeId!, {}, options())).toMatchObject({ amount_refunded: 500 })
    const { lastResponse: _r, ...retrieved } = await stripe.refunds.retrieve(refund.id, {}, options())
    const { lastResponse: _c, ...created } = refund
    expect(retrieved).toEqual(created)
    expect((await stripe.refunds.list({ payment_intent: pi }, options())).data.map((r) => r.id)).toEqual([refund.id])

    expect(await refusal(stripe.refunds.create({ payment_intent: pi }, options('another')))).toEqual({
      class: 'StripeInvalidRequestError',
      status: 400,
      type: 'invalid_request_error',
      code: 'charge_already_refunded',
      message: `Charge ${chargeId} has already been refunded.`,
      headers: expect.any(Object),
      statusCode: 400,
      requestId: expect.stringMatching(/^req_/),
    })
    expect(fake.refunds.size).toBe(1)
    expect(fake.refunded(pi)).toBe(500)
  })

  it('two partial refunds summing to the charge: each its own refund, the charge refunded only after the second', async () => {
    const pi = await paidIntent(500)
    const stripe = sdk()
    const first = await stripe.refunds.create(
      { payment_intent: pi, amount: 200, reason: 'requested_by_customer', metadata: { mpp_challenge_id: 'ch_1' } },
      options('part1'),
    )
    expect(first).toMatchObject({
      amount: 200,
      reason: 'requested_by_customer',
      metadata: { mpp_challenge_id: 'ch_1' },
    })
    expect(await latestCharge(pi)).toMatchObject({ amount_refunded: 200, refunded: false })
    const second = await stripe.refunds.create({ payment_intent: pi, amount: 300 }, options('part2'))
    expect(second.amount).toBe(300)
    expect(await latestCharge(pi)).toMatchObject({ amount_refunded: 500, refunded: true })
    expect(fake.refunded(pi)).toBe(500)
    expect(fake.refundsOf(pi).map((r) => r.amount)).toEqual([200, 300])
    expect((await stripe.refunds.list({ payment_intent: pi }, options())).data.map((r) => r.id)).toEqual([
      second.id,
      first.id,
    ])
    const recorded = fake.requests.find((r) => r.path === '/v1/refunds' && r.method === 'POST')!
    expect(recorded.form).toEqual({
      payment_intent: pi,
      amount: '200',
      reason: 'requested_by_customer',
      'metadata[mpp_challenge_id]': 'ch_1',
    })
    expect(recorded.headers['idempotency-key']).toBe('part1')
  })

  it("refuses with Stripe's errors, refunding nothing: over what is left, ≤ 0, unknown or unpaid intents", async () => {
    const pi = await paidIntent(500)
    const stripe = sdk()
    await stripe.refunds.create({ payment_intent: pi, amount: 200 }, options())
    const over = await refusal(stripe.refunds.create({ payment_intent: pi, amount: 301 }, options('over')))
    expect(over).toMatchObject({ class: 'StripeInvalidRequestError', status: 400 })
    expect(over).toMatchObject({
      type: 'invalid_request_error',
      param: 'amount',
      message: 'Refund amount ($3.01) is greater than unrefunded amount on charge ($3.00)',
    })
    expect(over).not.toHaveProperty('code') // Stripe sends none for this one
    for (const amount of [0, -5])
      expect(await refusal(stripe.refunds.create({ payment_intent: pi, amount }, options()))).toMatchObject({
        status: 400,
        code: 'parameter_invalid_integer',
        param: 'amount',
        message: 'Invalid positive integer',
      })
    expect(await refusal(stripe.refunds.create({ payment_intent: 'pi_nope' }, options()))).toMatchObject({
      status: 404,
      type: 'invalid_request_error',
      code: 'resource_missing',
      param: 'payment_intent',
      message: "No such payment_intent: 'pi_nope'",
    })
    const declinedSpt = await fake.issueSpt({
      paymentMethod: 'pm_card_chargeDeclined',
      maxAmount: 500,
      currency: 'usd',
    })
    const declined = (await charge(declinedSpt)).json.error!.payment_intent as { id: string }
    expect(await refusal(stripe.refunds.create({ payment_intent: declined.id }, options()))).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      message: `This PaymentIntent (${declined.id}) does not have a successful charge to refund.`,
    })
    expect(await refusal(stripe.refunds.retrieve('re_nope', {}, options()))).toMatchObject({
      status: 404,
      code: 'resource_missing',
      message: "No such refund: 're_nope'",
    })
    expect(fake.refunds.size).toBe(1)
    expect(fake.refunded(pi)).toBe(200)
    expect(fake.refunded(declined.id)).toBe(0)
  })

  it('an idempotent replay pays nothing twice, even after the charge is fully refunded; other params → idempotency_error', async () => {
    const pi = await paidIntent(500)
    const stripe = sdk()
    const first = await stripe.refunds.create({ payment_intent: pi }, options('mpp_refund_ch_x'))
    const again = await stripe.refunds.create({ payment_intent: pi }, options('mpp_refund_ch_x'))
    expect(again.id).toBe(first.id)
    expect(again.amount).toBe(500)
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true')
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined()
    const other = await refusal(stripe.refunds.create({ payment_intent: pi, amount: 100 }, options('mpp_refund_ch_x')))
    expect(other).toMatchObject({ class: 'StripeIdempotencyError', status: 400, type: 'idempotency_error' })
    expect(fake.refunds.size).toBe(1)
    expect(fake.refunded(pi)).toBe(500)
  })

  it.each([0, 30])(
    '30 concurrent refunds under one key (delay %i ms): one refund; the rest replay it or get 409',
    async (delayMs) => {
      const pi = await paidIntent(500)
      const stripe = sdk()
      fake.faults.delayMs = delayMs
      const results = await Promise.allSettled(
        Array.from({ length: 30 }, () => stripe.refunds.create({ payment_intent: pi }, options('one-key'))),
      )
      const done = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
      const originals = done.filter((r) => r.lastResponse.headers['idempotent-replayed'] === undefined)
      const replays = done.filter((r) => r.lastResponse.headers['idempotent-replayed'] === 'true')
      // the SDK surfaces the 409 as a StripeAPIError (it does not retry it with maxNetworkRetries 0)
      const conflicts = results.flatMap((r) =>
        r.status === 'rejected' &&
        r.reason instanceof Stripe.errors.StripeError &&
        r.reason.statusCode === 409 &&
        r.reason.code === 'idempotency_key_in_use'
          ? [r.reason]
          : [],
      )
      expect(originals).toHaveLength(1)
      expect(replays.length + conflicts.length).toBe(29)
      for (const r of replays) expect(r.id).toBe(originals[0]!.id)
      expect(fake.refunds.size).toBe(1)
      expect(fake.refunded(pi)).toBe(500)
    },
  )

  it('30 concurrent refunds under different keys never exceed the charge: 12 × 40 of 500 pass, the rest are refused', async () => {
    const pi = await paidIntent(500)
    const stripe = sdk()
    fake.faults.delayMs = 10
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => stripe.refunds.create({ payment_intent: pi, amount: 40 }, options(`k${i}`))),
    )
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(12)
    const refused = results.flatMap((r) =>
      r.status === 'rejected' ? [(r.reason as Stripe.errors.StripeError).message] : [],
    )
    expect(refused).toEqual(
      Array.from({ length: 18 }, () => 'Refund amount ($0.40) is greater than unrefunded amount on charge ($0.20)'),
    )
    expect(fake.refunded(pi)).toBe(480)
    fake.faults.delayMs = 0
    expect((await stripe.refunds.create({ payment_intent: pi }, options('rest'))).amount).toBe(20)
    expect(fake.refunded(pi)).toBe(500)
    expect(await latestCharge(pi)).toMatchObject({ amount_refunded: 500, refunded: true })
  })

  it('faults apply: the SDK retries one dropped connection under the same key (one refund); two drops refund nothing', async () => {
    const pi = await paidIntent(500)
    fake.faults.dropConnectionNext = 2
    await expect(sdk().refunds.create({ payment_intent: pi }, options('drop'))).rejects.toBeInstanceOf(
      Stripe.errors.StripeConnectionError,
    )
    expect(fake.requests.filter((r) => r.path === '/v1/refunds')).toHaveLength(2)
    expect(fake.refunded(pi)).toBe(0)
    fake.faults.dropConnectionNext = 1
    expect((await sdk().refunds.create({ payment_intent: pi, amount: 100 }, options('drop-once'))).amount).toBe(100)
    const tries = fake.requests.filter((r) => r.headers['idempotency-key'] === 'drop-once')
    expect(tries).toHaveLength(2)
    expect(fake.refunded(pi)).toBe(100)
  })

  it('faults apply: a timed-out refund still executes at the fake, and its retry under the same key replays it', async () => {
    const pi = await paidIntent(500)
    fake.faults.delayMs = 300
    await expect(sdk(100).refunds.create({ payment_intent: pi, amount: 150 }, options('slow'))).rejects.toBeInstanceOf(
      Stripe.errors.StripeConnectionError,
    )
    await new Promise((resolve) => setTimeout(resolve, 350))
    expect(fake.refunded(pi)).toBe(150) // Stripe executed it although the client gave up
    fake.faults.delayMs = 0
    const retried = await sdk().refunds.create({ payment_intent: pi, amount: 150 }, options('slow'))
    expect(retried.lastResponse.headers['idempotent-replayed']).toBe('true')
    expect(retried.amount).toBe(150)
    expect(fake.refundsOf(pi).map((r) => r.id)).toEqual([retried.id])
    expect(fake.refunded(pi)).toBe(150)
  })
})
