import { describe, expect, it } from 'vitest'
import { BackendUnavailable, type ChargeRequest, PaymentRefused } from './method.js'
import * as BodyDigest from '../protocol/body-digest.js'
import { type Challenge, computeId, encodeJson } from '../protocol/challenge.js'
import { parse as parseReceipt } from '../protocol/receipt.js'
import type { Claims, Ledger, RateCounter } from '../store/ports.js'
import { StoreUnavailable } from '../store/types.js'

import {
  KEY,
  OLD_KEY,
  REALM,
  NOW,
  TTL_MS,
  quoted,
  fakeMethod,
  routeOffersFor,
  setup,
  input,
  respondOf,
  forwardOf,
  problemOf,
  challengesOf,
  authorizationFor,
  pay,
  signed,
  metricsOf,
} from '../../test/support/core.js'

describe('payment core: no credential', () => {
  it('answers 402 with one challenge per offer, in the client’s Accept-Payment order, and logs it as challenged', async () => {
    const s = setup()
    const route = routeOffersFor([fakeMethod('stripe'), fakeMethod('tempo')], { description: 'a report' })
    const decision = respondOf(
      await s.core.handle(input(route, { headers: { 'accept-payment': ['tempo/charge, stripe/charge;q=0.5'] } })),
    )
    expect(decision.status).toBe(402)
    expect(decision.headers['Content-Type']).toBe('application/problem+json')
    expect(decision.headers['Cache-Control']).toBe('no-store')
    const challenges = challengesOf(decision)
    expect(challenges.map((c) => c.method)).toEqual(['tempo', 'stripe'])
    expect(challenges[0]).toMatchObject({ realm: REALM, intent: 'charge', description: 'a report' })
    expect(challenges[0]!.expires).toBe(new Date(NOW + TTL_MS).toISOString())
    expect(problemOf(decision)).toMatchObject({
      status: 402,
      type: 'https://paymentauth.org/problems/payment-required',
      detail: 'Payment is required: a report.',
      challengeId: challenges[0]!.id,
    })
    expect(decision.outcome.log).toStrictEqual({ payment: 'challenged' })
    expect(decision.outcome.counts).toStrictEqual([
      { metric: 'challengesIssued', args: ['GET /v1/report', ['tempo', 'stripe']] },
    ])
    expect(Object.isFrozen(decision.outcome)).toBe(true)
    expect(Object.isFrozen(decision.outcome.log)).toBe(true)
  })

  it('binds the body digest into the challenge when the request has a body', async () => {
    const s = setup()
    const body = new TextEncoder().encode('{"q":1}')
    const [challenge] = challengesOf(await s.core.handle(input(routeOffersFor([fakeMethod('stripe')]), { body })))
    expect(challenge!.digest).toBe(BodyDigest.compute(body))
  })

  it('answers 503 no-payment-method when the route offers no method, before anything else', async () => {
    const s = setup()
    const route = routeOffersFor([])
    const decision = respondOf(await s.core.handle(input(route, { headers: { authorization: 'Payment x' } })))
    expect(decision.status).toBe(503)
    expect(problemOf(decision)).toMatchObject({ type: 'urn:mpp-gateway:problem:no-payment-method' })
    expect(decision.outcome.log).toStrictEqual({ payment: 'unavailable' })
    expect(s.core.precheck(route)).toMatchObject({ status: 503 })
    expect(s.core.precheck(routeOffersFor([fakeMethod('stripe')]))).toBeUndefined()
  })
})

describe('payment core: refusals with fresh challenges', () => {
  const cases: Array<[string, (c: Challenge) => string | string[], number, string, string | RegExp]> = [
    [
      'several credentials',
      (c) => [authorizationFor(c), authorizationFor(c)],
      400,
      'bad-request',
      'Send exactly one Payment credential; this request carries several.',
    ],
    ['a malformed credential', () => 'Payment !!!', 402, 'malformed-credential', /^The credential is malformed: /],
    [
      'a bad HMAC',
      (c) => authorizationFor({ ...c, id: `${c.id.slice(0, -2)}AA` }),
      402,
      'invalid-challenge',
      'The challenge was not issued by this gateway, or was altered.',
    ],
    [
      'a challenge signed by an unknown key',
      (c) => authorizationFor(signed(c, {}, 'some-other-key-0123456789-abcdefghijklmnop')),
      402,
      'invalid-challenge',
      'The challenge was not issued by this gateway, or was altered.',
    ],
    [
      'a wrong realm',
      (c) => authorizationFor(signed(c, { realm: 'other.example.com' })),
      402,
      'invalid-challenge',
      'The challenge was issued for realm "other.example.com", not this one.',
    ],
    [
      'a wrong route',
      (c) => authorizationFor(signed(c, { opaque: encodeJson({ route: 'GET /v1/other' }) })),
      402,
      'invalid-challenge',
      'The challenge was issued for another route.',
    ],
    [
      'a changed price',
      (c) => authorizationFor(signed(c, { request: encodeJson({ ...quoted, amount: '1' }) })),
      402,
      'invalid-challenge',
      "The challenge's fields (amount) no longer match what this route charges.",
    ],
    [
      'an expired challenge',
      (c) => authorizationFor(signed(c, { expires: new Date(NOW - 1).toISOString() })),
      402,
      'payment-expired',
      `The challenge expired at ${new Date(NOW - 1).toISOString()}.`,
    ],
    [
      'a digest for another body',
      (c) => authorizationFor(signed(c, { digest: BodyDigest.compute(new TextEncoder().encode('other')) })),
      402,
      'invalid-challenge',
      'The request body does not match the digest the challenge was issued for.',
    ],
  ]

  it.each(cases)(
    'refuses %s: %i %s, with fresh challenges, and settles nothing',
    async (_, auth, status, type, detail) => {
      const s = setup()
      const method = fakeMethod('stripe')
      const route = routeOffersFor([method])
      const [challenge] = challengesOf(await s.core.handle(input(route)))
      const decision = respondOf(await s.core.handle(input(route, { headers: { authorization: auth(challenge!) } })))
      expect(decision.status).toBe(status)
      const problem = problemOf(decision)
      expect(problem.type).toBe(`https://paymentauth.org/problems/${type}`)
      if (typeof detail === 'string') expect(problem.detail).toBe(detail)
      else expect(problem.detail).toMatch(detail)
      expect(challengesOf(decision)).toHaveLength(1)
      expect(decision.outcome.log).toMatchObject({ payment: 'refused', problem: type })
      expect(method.calls).toHaveLength(0)
    },
  )

  it('labels a verification failure with the method, the challenge id and the problem', async () => {
    const s = setup()
    const route = routeOffersFor([fakeMethod('stripe')])
    const [challenge] = challengesOf(await s.core.handle(input(route)))
    const altered = signed(challenge!, { realm: 'other.example.com' })
    const decision = await s.core.handle(input(route, { headers: { authorization: authorizationFor(altered) } }))
    expect(decision.outcome.log).toStrictEqual({
      payment: 'refused',
      problem: 'invalid-challenge',
      paymentMethod: 'stripe',
      challengeId: altered.id,
    })
    expect(decision.outcome.counts).toStrictEqual([
      { metric: 'verification', args: ['stripe', 'invalid-challenge'] },
      { metric: 'challengesIssued', args: ['GET /v1/report', ['stripe']] },
    ])
  })

  it('labels a method the route does not offer as "unknown"', async () => {
    const s = setup()
    const route = routeOffersFor([fakeMethod('stripe')])
    const [challenge] = challengesOf(await s.core.handle(input(route)))
    const decision = await s.core.handle(
      input(route, { headers: { authorization: authorizationFor(signed(challenge!, { method: 'made-up' })) } }),
    )
    expect(decision.outcome.log).toMatchObject({ paymentMethod: 'unknown', problem: 'invalid-challenge' })
    expect(problemOf(decision).detail).toBe('This route does not accept made-up/charge.')
  })

  it('accepts a challenge signed with a previous key (rotation), and issues with the current one only', async () => {
    const s = setup({ secretKeys: [KEY, OLD_KEY] })
    const method = fakeMethod('stripe')
    const route = routeOffersFor([method])
    const [challenge] = challengesOf(await s.core.handle(input(route)))
    expect(computeId(KEY, challenge!)).toBe(challenge!.id)
    const old = signed(challenge!, {}, OLD_KEY)
    forwardOf(await s.core.handle(input(route, { headers: { authorization: authorizationFor(old) } })))
    expect(method.calls).toHaveLength(1)
  })

  it('refuses a replayed challenge: one settlement, then invalid-challenge counted as a replay', async () => {
    const s = setup()
    const method = fakeMethod('stripe')
    const route = routeOffersFor([method])
    const [challenge] = challengesOf(await s.core.handle(input(route)))
    const authorization = authorizationFor(challenge!)
    await forwardOf(await s.core.handle(input(route, { headers: { authorization } }))).commit({
      outcome: 'served',
      upstreamStatus: 200,
    })
    const replay = respondOf(await s.core.handle(input(route, { headers: { authorization } })))
    expect(replay.status).toBe(402)
    expect(problemOf(replay)).toMatchObject({ detail: 'This challenge has already been used.' })
    expect(metricsOf(replay)).toEqual(['replayRejected', 'verification', 'challengesIssued'])
    expect(replay.outcome.counts[1]).toStrictEqual({ metric: 'verification', args: ['stripe', 'invalid-challenge'] })
    expect(method.calls).toHaveLength(1)
  })

  it('lets exactly one of many concurrent uses of one credential settle', async () => {
    const s = setup()
    const method = fakeMethod('stripe')
    const route = routeOffersFor([method])
    const [challenge] = challengesOf(await s.core.handle(input(route)))
    const authorization = authorizationFor(challenge!)
    const decisions = await Promise.all(
      Array.from({ length: 20 }, () => s.core.handle(input(route, { headers: { authorization } }))),
    )
    expect(decisions.filter((d) => d.kind === 'forward')).toHaveLength(1)
    // the others: "in progress, retry the same credential" (never "already used": it is theirs)
    for (const d of decisions.filter((d) => d.kind === 'respond'))
      expect(problemOf(respondOf(d)).type).toBe('urn:mpp-gateway:problem:payment-in-progress')
    await expect(s.store.ledger()).resolves.toEqual([])
  })

  it('answers a refused payment with 402 and its problem, and releases the claim so the credential can be retried', async () => {
    const s = setup()
    let refuse = true
    const method = fakeMethod('stripe', async (settle) => {
      // a method's own key, given back with the challenge's when settling fails
      expect(await settle.claimOnce('tx:1', NOW + 60_000)).toBe(true)
      if (refuse) throw new PaymentRefused('payment-insufficient', 'The payment was 1 short.')
      return { reference: 'pi_9' }
    })
    const route = routeOffersFor([method])
    const [challenge] = challengesOf(await s.core.handle(input(route)))
    const authorization = authorizationFor(challenge!)
    const refused = respondOf(await s.core.handle(input(route, { headers: { authorization } })))
    expect(refused.status).toBe(402)
    expect(problemOf(refused)).toMatchObject({
      type: 'https://paymentauth.org/problems/payment-insufficient',
      detail: 'The payment was 1 short.',
    })
    expect(challengesOf(refused)).toHaveLength(1)
    expect(refused.outcome.log).toMatchObject({ payment: 'refused', problem: 'payment-insufficient' })
    expect(refused.outcome.counts[0]).toStrictEqual({
      metric: 'verification',
      args: ['stripe', 'payment-insufficient'],
    })
    expect(s.logger.lines).toContainEqual({
      level: 'info',
      message: 'payment refused',
      fields: {
        route: 'GET /v1/report',
        method: 'stripe',
        challengeId: challenge!.id,
        problem: 'payment-insufficient',
        detail: 'The payment was 1 short.',
      },
    })
    expect(s.store.claimCount()).toBe(0)
    refuse = false
    expect(forwardOf(await s.core.handle(input(route, { headers: { authorization } }))).outcome.log.reference).toBe(
      'pi_9',
    )
  })

  it('releases a key the method gave back itself only once', async () => {
    const s = setup()
    const released: string[] = []
    const claims: Claims = { claim: (k, e, o) => s.store.claim(k, e, o), release: async (k) => void released.push(k) }
    const t = setup({ stores: { claims } })
    const method = fakeMethod('tempo', async (settle) => {
      await settle.claimOnce('lock:payer', NOW + 1_000)
      await settle.release('lock:payer')
      await settle.release('lock:payer')
      throw new PaymentRefused('verification-failed', 'no')
    })
    const decision = await pay(t, routeOffersFor([method]))
    expect(respondOf(decision).status).toBe(402)
    expect(released).toEqual(['tempo:lock:payer'])
  })
})

describe('payment core: unavailable', () => {
  it('answers 503 <backend>-unavailable with Retry-After when the payment backend is down, and releases the claim', async () => {
    const s = setup()
    let down = true
    const method = fakeMethod('stripe', async () => {
      if (down) throw new BackendUnavailable('stripe', 'Stripe did not answer.')
      return { reference: 'pi_2' }
    })
    const route = routeOffersFor([method])
    const [challenge] = challengesOf(await s.core.handle(input(route)))
    const authorization = authorizationFor(challenge!)
    const decision = respondOf(await s.core.handle(input(route, { headers: { authorization } })))
    expect(decision.status).toBe(503)
    expect(decision.headers['Retry-After']).toBe('2')
    expect(decision.headers['WWW-Authenticate']).toBeUndefined()
    expect(problemOf(decision)).toMatchObject({
      type: 'urn:mpp-gateway:problem:stripe-unavailable',
      detail:
        'Stripe did not answer. The request was not forwarded; retry the same credential shortly (it is never charged twice).',
    })
    expect(decision.outcome.log).toMatchObject({ payment: 'unavailable', paymentMethod: 'stripe' })
    expect(decision.outcome.counts).toStrictEqual([{ metric: 'backendError', args: ['stripe'] }])
    down = false
    forwardOf(await s.core.handle(input(route, { headers: { authorization } })))
  })

  it('answers 503 store-unavailable when the claim cannot be made, and never settles', async () => {
    const s = setup()
    const down = () => Promise.reject(new StoreUnavailable('redis down'))
    const t = setup({ stores: { settlements: { begin: down, update: down, drop: down, unfinished: down } } })
    const method = fakeMethod('stripe')
    const route = routeOffersFor([method])
    const [challenge] = challengesOf(await s.core.handle(input(route)))
    const decision = respondOf(
      await t.core.handle(input(route, { headers: { authorization: authorizationFor(challenge!) } })),
    )
    expect(decision.status).toBe(503)
    expect(decision.headers['Retry-After']).toBe('2')
    expect(problemOf(decision)).toMatchObject({
      type: 'urn:mpp-gateway:problem:store-unavailable',
      detail: 'The payment ledger is unreachable; nothing was charged. Retry shortly.',
    })
    expect(decision.outcome.counts).toStrictEqual([{ metric: 'backendError', args: ['store'] }])
    expect(method.calls).toHaveLength(0)
    expect(t.logger.lines.map((l) => l.message)).toContain('replay store unavailable; refusing paid request')
  })

  it('answers 503 store-unavailable when the store fails during settlement', async () => {
    const s = setup()
    const method = fakeMethod('tempo', async () => Promise.reject(new StoreUnavailable('redis down')))
    const decision = respondOf(await pay(s, routeOffersFor([method])))
    expect(decision.status).toBe(503)
    expect(problemOf(decision)).toMatchObject({ type: 'urn:mpp-gateway:problem:store-unavailable' })
    expect(decision.outcome.log.payment).toBe('unavailable')
    expect(s.logger.lines.map((l) => l.message)).toContain('replay store unavailable during settlement')
    expect(s.store.claimCount()).toBe(0)
  })

  it('answers 500 internal-payment-error on an unexpected settlement error, and releases the claim', async () => {
    const s = setup()
    const method = fakeMethod('stripe', async () => Promise.reject(new TypeError('bug')))
    const decision = respondOf(await pay(s, routeOffersFor([method])))
    expect(decision.status).toBe(500)
    expect(problemOf(decision)).toMatchObject({
      type: 'urn:mpp-gateway:problem:internal-payment-error',
      title: 'Internal Payment Error',
      detail: 'The gateway failed while settling the payment.',
    })
    expect(decision.outcome.log.payment).toBe('unavailable')
    expect(decision.outcome.counts).toStrictEqual([])
    expect(s.store.claimCount()).toBe(0)
  })
})

describe('payment core: issuing challenges', () => {
  const issuer = (issue: () => Promise<{ request: ChargeRequest; bound?: Record<string, string> }>) => ({
    fields: ['recipient'] as const,
    createsBackendObject: true,
    issue,
  })

  it('leaves out an offer whose issuer fails, counting and logging the backend', async () => {
    const s = setup()
    const deposit = fakeMethod('tempo', undefined, {
      issuer: issuer(async () => Promise.reject(new BackendUnavailable('stripe', 'Stripe is down.'))),
    })
    const decision = respondOf(await s.core.handle(input(routeOffersFor([deposit, fakeMethod('stripe')]))))
    expect(decision.status).toBe(402)
    expect(challengesOf(decision).map((c) => c.method)).toEqual(['stripe'])
    expect(decision.outcome.counts).toStrictEqual([
      { metric: 'backendError', args: ['stripe'] },
      { metric: 'challengesIssued', args: ['GET /v1/report', ['stripe']] },
    ])
    expect(s.logger.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'could not issue a challenge; left out of this 402',
        fields: expect.objectContaining({ route: 'GET /v1/report', method: 'tempo', backend: 'stripe' }),
      }),
    )
  })

  it('answers 503 when no challenge could be issued', async () => {
    const s = setup()
    const deposit = fakeMethod('tempo', undefined, {
      issuer: issuer(async () => Promise.reject(new BackendUnavailable('stripe', 'Stripe is down.'))),
    })
    const decision = respondOf(await s.core.handle(input(routeOffersFor([deposit]))))
    expect(decision.status).toBe(503)
    expect(decision.headers['Retry-After']).toBe('2')
    expect(problemOf(decision)).toMatchObject({
      type: 'urn:mpp-gateway:problem:stripe-unavailable',
      detail: 'Stripe is down. No payment challenge could be issued; retry shortly.',
    })
    expect(decision.outcome.log).toStrictEqual({ payment: 'unavailable' })
  })

  it('names the method when an issuer fails with an unexpected error', async () => {
    const s = setup()
    const deposit = fakeMethod('tempo', undefined, { issuer: issuer(async () => Promise.reject(new Error('x'))) })
    const decision = respondOf(await s.core.handle(input(routeOffersFor([deposit]))))
    expect(problemOf(decision)).toMatchObject({
      type: 'urn:mpp-gateway:problem:tempo-unavailable',
      detail: 'No payment challenge could be issued; retry shortly.',
    })
    expect(decision.outcome.counts).toStrictEqual([{ metric: 'backendError', args: ['tempo'] }])
  })

  it('settles an issued challenge with the issued fields and what the issuer bound', async () => {
    const s = setup()
    const deposit = fakeMethod('tempo', undefined, {
      issuer: issuer(async () => ({ request: { ...quoted, recipient: '0xabc' }, bound: { paymentIntent: 'pi_7' } })),
    })
    forwardOf(await pay(s, routeOffersFor([deposit])))
    expect(deposit.calls[0]).toMatchObject({
      request: { ...quoted, recipient: '0xabc' },
      bound: { paymentIntent: 'pi_7' },
    })
  })
})

describe('payment core: rate limits', () => {
  it('answers 429 with Retry-After once a client has used its challenge budget, per client', async () => {
    const s = setup({ challengeRateLimit: { limit: 2, windowMs: 10_000 } })
    const route = routeOffersFor([fakeMethod('stripe')])
    for (let i = 0; i < 2; i++) expect(respondOf(await s.core.handle(input(route))).status).toBe(402)
    const limited = respondOf(await s.core.handle(input(route)))
    expect(limited.status).toBe(429)
    expect(limited.headers['Retry-After']).toBe('10')
    expect(problemOf(limited)).toMatchObject({
      type: 'urn:mpp-gateway:problem:rate-limited',
      detail: 'This client asked for more than 2 payment challenges in 10 s. Retry later.',
    })
    expect(limited.outcome.log).toStrictEqual({ payment: 'rate-limited' })
    expect(limited.outcome.counts).toStrictEqual([{ metric: 'rateLimited', args: ['GET /v1/report'] }])
    expect(respondOf(await s.core.handle(input(route, { clientIp: '192.0.2.2' }))).status).toBe(402)
    s.clock.now += 10_000
    expect(respondOf(await s.core.handle(input(route))).status).toBe(402)
  })

  it('counts refusals against the budget too', async () => {
    const s = setup({ challengeRateLimit: { limit: 1, windowMs: 1_000 } })
    const route = routeOffersFor([fakeMethod('stripe')])
    const [challenge] = challengesOf(await s.core.handle(input(route)))
    const altered = signed(challenge!, { realm: 'x' })
    const limited = respondOf(
      await s.core.handle(input(route, { headers: { authorization: authorizationFor(altered) } })),
    )
    expect(limited.status).toBe(429)
    expect(limited.outcome.log).toStrictEqual({
      payment: 'rate-limited',
      paymentMethod: 'stripe',
      challengeId: altered.id,
    })
  })

  it('gives 402s that create a backend object their own, stricter budget', async () => {
    const s = setup({ depositIntentRateLimit: { limit: 1, windowMs: 60_000 } })
    const deposit = fakeMethod('tempo', undefined, {
      issuer: { fields: ['recipient'], createsBackendObject: true, issue: async () => ({ request: quoted }) },
    })
    const route = routeOffersFor([deposit, fakeMethod('stripe')])
    expect(respondOf(await s.core.handle(input(route))).status).toBe(402)
    const limited = respondOf(await s.core.handle(input(route)))
    expect(limited.status).toBe(429)
    expect(limited.headers['Retry-After']).toBe('60')
    expect(problemOf(limited).detail).toBe(
      'This client asked for more than 1 payment challenges that create a Stripe PaymentIntent in 60 s. Retry later.',
    )
    // a client that rules the deposit offer out is not held to that budget
    const stripeOnly = { headers: { 'accept-payment': 'stripe/charge' } }
    expect(respondOf(await s.core.handle(input(route, stripeOnly))).status).toBe(402)
  })

  it('fails open when the store cannot count: the 402 goes out, the store error is counted', async () => {
    const rateCounter: RateCounter = { countHit: async () => Promise.reject(new StoreUnavailable('down')) }
    const s = setup({ challengeRateLimit: { limit: 1, windowMs: 1_000 }, stores: { rateCounter } })
    const decision = respondOf(await s.core.handle(input(routeOffersFor([fakeMethod('stripe')]))))
    expect(decision.status).toBe(402)
    expect(decision.outcome.counts[0]).toStrictEqual({ metric: 'backendError', args: ['store'] })
    expect(s.logger.lines.map((l) => l.message)).toContain(
      'challenge rate limit not enforced: the store is unreachable',
    )
  })
})

describe('payment core: paid', () => {
  it('forwards with the other Authorization schemes and a receipt, then commits the ledger entry', async () => {
    const s = setup()
    const method = fakeMethod('stripe', async () => ({ reference: 'pi_1', receipt: { externalId: 'order-1' } }))
    const route = routeOffersFor([method])
    const [challenge] = challengesOf(await s.core.handle(input(route)))
    const decision = forwardOf(
      await s.core.handle(
        input(route, { headers: { authorization: [`Basic dXNlcjpwdw==, ${authorizationFor(challenge!)}`] } }),
      ),
    )
    expect(decision.authorization).toBe('Basic dXNlcjpwdw==')
    expect(parseReceipt(decision.receipt)).toStrictEqual({
      status: 'success',
      method: 'stripe',
      timestamp: new Date(NOW).toISOString(),
      reference: 'pi_1',
      externalId: 'order-1',
    })
    expect(decision.outcome.log).toStrictEqual({
      payment: 'paid',
      paymentMethod: 'stripe',
      challengeId: challenge!.id,
      reference: 'pi_1',
    })
    expect(decision.outcome.counts).toStrictEqual([
      { metric: 'verification', args: ['stripe', 'success'] },
      { metric: 'settled', args: ['GET /v1/report', 'stripe', 'usd', '500000'] },
    ])
    expect(method.calls[0]).toMatchObject({ challengeId: challenge!.id, realm: REALM, payload: { token: 'spt_1' } })
    expect(await s.store.ledger()).toEqual([])
    const committed = await decision.commit({ outcome: 'served', upstreamStatus: 200, bytesSent: 5, bytesExpected: 5 })
    const entry = {
      challengeId: challenge!.id,
      route: 'GET /v1/report',
      method: 'stripe',
      amount: '500000',
      currency: 'usd',
      reference: 'pi_1',
      settledAt: new Date(NOW).toISOString(),
      state: 'served',
      outcome: 'served',
      upstreamStatus: 200,
      bytesSent: 5,
      bytesExpected: 5,
    }
    expect(committed).toStrictEqual({ entry, counts: [] })
    expect(await s.store.ledger()).toStrictEqual([entry])
    // a second commit writes nothing more
    await decision.commit({ outcome: 'served', upstreamStatus: 200 })
    expect(await s.store.ledger()).toHaveLength(1)
  })

  it('forwards a body with its digest checked', async () => {
    const s = setup()
    const body = new TextEncoder().encode('{"q":1}')
    forwardOf(await pay(s, routeOffersFor([fakeMethod('stripe')]), { body }))
  })

  it('commits a payment that was not served as an error line and a paid-but-not-served count', async () => {
    const s = setup()
    const decision = forwardOf(await pay(s, routeOffersFor([fakeMethod('stripe')])))
    const committed = await decision.commit({ outcome: 'upstream-timeout', upstreamStatus: 0, failure: 'timeout' })
    expect(committed.entry).toMatchObject({ outcome: 'upstream-timeout', upstreamStatus: 0 })
    expect(committed.entry).not.toHaveProperty('failure')
    expect(committed.counts).toStrictEqual([{ metric: 'paidButUpstreamFailed', args: ['GET /v1/report'] }])
    expect(s.logger.lines).toContainEqual({
      level: 'error',
      message: 'payment settled but the upstream did not serve it; refund or serve manually',
      fields: {
        route: 'GET /v1/report',
        challengeId: committed.entry.challengeId,
        reference: 'ref_1',
        outcome: 'upstream-timeout',
        upstreamStatus: 0,
        failure: 'timeout',
      },
    })
  })

  it('does not count a client that left as not served', async () => {
    const s = setup()
    const decision = forwardOf(await pay(s, routeOffersFor([fakeMethod('stripe')])))
    expect((await decision.commit({ outcome: 'client-gone', upstreamStatus: 200, bytesSent: 1 })).counts).toEqual([])
  })

  it('logs the whole entry and counts a store error when the ledger cannot be written', async () => {
    const ledger: Ledger = { record: async () => Promise.reject(new StoreUnavailable('down')), ledger: async () => [] }
    const s = setup({ stores: { ledger } })
    const decision = forwardOf(await pay(s, routeOffersFor([fakeMethod('stripe')])))
    const committed = await decision.commit({ outcome: 'served', upstreamStatus: 200 })
    expect(committed.counts).toStrictEqual([{ metric: 'backendError', args: ['store'] }])
    expect(s.logger.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'settled payment could not be written to the ledger',
        fields: expect.objectContaining({ ...committed.entry }),
      }),
    )
  })

  it('serves a replayed settlement (an earlier attempt whose claim was released), with a warning', async () => {
    const s = setup()
    const decision = forwardOf(
      await pay(s, routeOffersFor([fakeMethod('stripe', async () => ({ reference: 'pi_3', replayed: true }))])),
    )
    expect(decision.outcome.log.reference).toBe('pi_3')
    expect(s.logger.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'payment backend replayed an earlier settlement for an unserved challenge',
        fields: expect.objectContaining({ reference: 'pi_3' }),
      }),
    )
  })

  it('never logs the credential or its payload, whatever happens', async () => {
    const s = setup()
    const secret = 'spt_secret_0123456789'
    const route = routeOffersFor([fakeMethod('stripe', async () => Promise.reject(new TypeError(`boom`)))])
    const [challenge] = challengesOf(await s.core.handle(input(route)))
    const authorization = authorizationFor(challenge!, { token: secret })
    await s.core.handle(input(route, { headers: { authorization } }))
    await s.core.handle(input(route, { headers: { authorization: 'Payment !!!' } }))
    const logged = JSON.stringify(
      s.logger.lines.map((l) => ({ ...l, fields: { ...l.fields, error: String(l.fields.error) } })),
    )
    expect(logged).not.toContain(secret)
    expect(logged).not.toContain(authorization.slice(8))
  })
})
