import { describe, expect, it } from 'vitest'
import type { RouteConfig } from '../config/types.js'
import type { RouteOffers } from './price-table.js'
import type { ChargeRequest, PaymentMethod } from './method.js'
import * as BodyDigest from '../protocol/body-digest.js'
import { type Challenge, computeId, encodeJson } from '../protocol/challenge.js'
import { freshNonce, withNonce } from '../protocol/challenge-nonce.js'
import { issueChallenges } from './issue.js'
import { verifyChallenge } from './verify.js'

const KEY = 'verify-test-key-0123456789-abcdefghijklmnop'
const NOW = Date.parse('2026-11-27T08:00:00Z')
const route = { match: 'GET /v1/cheap' } as RouteConfig
const quoted: ChargeRequest = {
  amount: '500000',
  currency: '0x20C0000000000000000000000000000000000000',
  methodDetails: { chainId: 42431 },
}

function offersFor(method: PaymentMethod): RouteOffers {
  return {
    route,
    offers: [{ method, intent: 'charge', request: quoted, encodedRequest: encodeJson(quoted) }],
    unavailable: [],
  }
}

const staticMethod = {
  name: 'tempo',
  quote: () => ({ ok: false, reason: '' }),
  settle: async () => ({ reference: '' }),
} as PaymentMethod
const depositMethod = {
  ...staticMethod,
  issuer: {
    fields: ['recipient', 'currency'],
    createsBackendObject: true,
    issue: async (request: ChargeRequest) => ({
      request: { ...request, recipient: '0x1111111111111111111111111111111111111111' },
      bound: { paymentIntent: 'pi_1' },
    }),
  },
} as PaymentMethod

const verify = (challenge: Challenge, routeOffers: RouteOffers) =>
  verifyChallenge(challenge, {
    routeOffers,
    realm: 'api.example.com',
    secretKeys: [KEY],
    now: NOW,
    ttlMs: 300_000,
    digestMatches: () => true,
  })

/** A challenge as this gateway would sign it, with the given request and opaque. */
function signed(request: object, opaque: object): Challenge {
  const bound = {
    realm: 'api.example.com',
    method: 'tempo',
    intent: 'charge',
    request: encodeJson(request),
    expires: new Date(NOW + 60_000).toISOString(),
    opaque: encodeJson(opaque),
  }
  return { id: computeId(KEY, bound), ...bound }
}

describe('verifyChallenge with requests issued per 402', () => {
  it('accepts the issued recipient and hands back the echoed request and the bound intent', async () => {
    const routeOffers = offersFor(depositMethod)
    const { challenges } = await issueChallenges(routeOffers, {
      realm: 'api.example.com',
      secretKey: KEY,
      ttlMs: 60_000,
      now: NOW,
    })
    const verdict = verify(challenges[0]!, routeOffers)
    expect(verdict).toMatchObject({
      ok: true,
      request: { ...quoted, recipient: '0x1111111111111111111111111111111111111111' },
      bound: { paymentIntent: 'pi_1' },
    })
  })

  it('still holds the other fields to the quote: a changed amount is refused even when signed', () => {
    const verdict = verify(
      signed(
        { ...quoted, amount: '1', recipient: '0x1111111111111111111111111111111111111111' },
        { route: route.match },
      ),
      offersFor(depositMethod),
    )
    expect(verdict).toMatchObject({ ok: false, problem: 'invalid-challenge' })
  })

  it('refuses extra opaque fields on a method that issues nothing, and a recipient it did not quote', () => {
    const routeOffers = offersFor(staticMethod)
    expect(verify(signed(quoted, { route: route.match }), routeOffers)).toMatchObject({ ok: true, bound: {} })
    expect(verify(signed(quoted, { route: route.match, paymentIntent: 'pi_1' }), routeOffers)).toMatchObject({
      ok: false,
      problem: 'invalid-challenge',
    })
    expect(
      verify(
        signed({ ...quoted, recipient: '0x1111111111111111111111111111111111111111' }, { route: route.match }),
        routeOffers,
      ),
    ).toMatchObject({ ok: false, problem: 'invalid-challenge' })
  })

  it('leaves out an offer whose issue fails, and reports why', async () => {
    const failing = {
      ...depositMethod,
      issuer: { ...depositMethod.issuer!, issue: async () => Promise.reject(new Error('Stripe down')) },
    } as PaymentMethod
    const { challenges, failures } = await issueChallenges(offersFor(failing), {
      realm: 'api.example.com',
      secretKey: KEY,
      ttlMs: 60_000,
      now: NOW,
    })
    expect(challenges).toEqual([])
    expect(failures).toMatchObject([{ method: 'tempo', error: { message: 'Stripe down' } }])
  })
})

describe('verifyChallenge: each check', () => {
  const OLD_KEY = 'verify-test-old-key-0123456789-abcdefghijk'
  const routeOffers = offersFor(staticMethod)
  const body = new TextEncoder().encode('{"q":1}')
  const good = (changes: Record<string, unknown> = {}, key = KEY): Challenge => {
    const bound = {
      realm: 'api.example.com',
      method: 'tempo',
      intent: 'charge',
      request: encodeJson(quoted),
      expires: new Date(NOW + 60_000).toISOString(),
      opaque: encodeJson({ route: route.match }),
      ...changes,
    }
    return { id: computeId(key, bound), ...bound }
  }
  const check = (challenge: Challenge, context: Partial<Parameters<typeof verifyChallenge>[1]> = {}) =>
    verifyChallenge(challenge, {
      routeOffers,
      realm: 'api.example.com',
      secretKeys: [KEY],
      now: NOW,
      ttlMs: 60_000,
      digestMatches: (digest) => digest === undefined,
      ...context,
    })

  it('accepts a challenge it signed, with its expiry and the quoted request', () => {
    expect(check(good())).toStrictEqual({
      ok: true,
      offer: routeOffers.offers[0],
      expiresAtMs: NOW + 60_000,
      expired: false,
      issuedAtMs: NOW,
      request: quoted,
      bound: {},
    })
  })

  it('refuses an altered challenge and one signed with another key (HMAC)', () => {
    expect(check({ ...good(), realm: 'api.example.com ' })).toStrictEqual({
      ok: false,
      problem: 'invalid-challenge',
      detail: 'The challenge was not issued by this gateway, or was altered.',
    })
    expect(check(good({}, 'another-key-0123456789-abcdefghijklmnopqrst'))).toMatchObject({
      ok: false,
      problem: 'invalid-challenge',
    })
  })

  it('accepts a key being rotated out, and no longer once it is dropped', () => {
    expect(check(good({}, OLD_KEY), { secretKeys: [KEY, OLD_KEY] })).toMatchObject({ ok: true })
    expect(check(good({}, OLD_KEY))).toMatchObject({ ok: false, problem: 'invalid-challenge' })
  })

  it('refuses another realm', () => {
    expect(check(good(), { realm: 'other.example.com' })).toStrictEqual({
      ok: false,
      problem: 'invalid-challenge',
      detail: 'The challenge was issued for realm "api.example.com", not this one.',
    })
  })

  it('refuses another route, a missing opaque, and another method or intent', () => {
    const anotherRoute = {
      ok: false,
      problem: 'invalid-challenge',
      detail: 'The challenge was issued for another route.',
    }
    expect(check(good({ opaque: encodeJson({ route: 'GET /v1/other' }) }))).toStrictEqual(anotherRoute)
    expect(check(good({ opaque: undefined }))).toStrictEqual(anotherRoute)
    expect(check(good({ method: 'stripe' }))).toStrictEqual({
      ok: false,
      problem: 'invalid-challenge',
      detail: 'This route does not accept stripe/charge.',
    })
    expect(check(good({ intent: 'session' }))).toMatchObject({ ok: false, problem: 'invalid-challenge' })
  })

  it('refuses a request that no longer matches the price, naming the fields', () => {
    expect(check(good({ request: encodeJson({ ...quoted, amount: '1' }) }))).toStrictEqual({
      ok: false,
      problem: 'invalid-challenge',
      detail: "The challenge's fields (amount) no longer match what this route charges.",
    })
  })

  it('refuses no expiry or an invalid one; says whether it expired (expiry itself included), for the core to weigh', () => {
    expect(check(good({ expires: undefined }))).toStrictEqual({
      ok: false,
      problem: 'invalid-challenge',
      detail: 'The challenge has no expiry.',
    })
    expect(check(good({ expires: 'tomorrow' }))).toStrictEqual({
      ok: false,
      problem: 'invalid-challenge',
      detail: 'The challenge expiry is not a valid timestamp.',
    })
    expect(check(good({ expires: new Date(NOW).toISOString() }))).toMatchObject({ ok: true, expired: true })
    expect(check(good({ expires: new Date(NOW + 1).toISOString() }))).toMatchObject({ ok: true, expired: false })
  })

  it('reads when a challenge was issued from its nonce, else from its expiry and the TTL', () => {
    const stamped = encodeJson(withNonce({ route: route.match }, freshNonce(NOW - 5_000)))
    expect(check(good({ opaque: stamped }))).toMatchObject({ ok: true, issuedAtMs: NOW - 5_000 })
    // no nonce (the release before it), or a random one from elsewhere that decodes past the expiry
    expect(check(good())).toMatchObject({ ok: true, issuedAtMs: NOW + 60_000 - 60_000 })
    const random = encodeJson(withNonce({ route: route.match }, `0x${'f'.repeat(64)}`))
    expect(check(good({ opaque: random }))).toMatchObject({ ok: true, issuedAtMs: NOW })
  })

  it('refuses a digest that does not match the body, and a body when the challenge had none', () => {
    const digest = BodyDigest.compute(body)
    const matches = (echoed: string | undefined) => echoed !== undefined && BodyDigest.matches(echoed, body)
    expect(check(good({ digest }), { digestMatches: matches })).toMatchObject({ ok: true })
    const mismatch = {
      ok: false,
      problem: 'invalid-challenge',
      detail: 'The request body does not match the digest the challenge was issued for.',
    }
    expect(check(good({ digest: BodyDigest.compute(new Uint8Array([1])) }), { digestMatches: matches })).toStrictEqual(
      mismatch,
    )
    expect(check(good(), { digestMatches: matches })).toStrictEqual(mismatch)
  })
})
