import { describe, expect, it } from 'vitest'
import type { RouteConfig } from '../config/types.js'
import type { RouteOffers } from './price-table.js'
import type { ChargeRequest, PaymentMethod } from '../methods/types.js'
import { type Challenge, computeId, encodeJson } from '../protocol/challenge.js'
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
