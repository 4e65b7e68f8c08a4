import { describe, expect, it } from 'vitest'
import type { RouteConfig } from '../config/types.js'
import type { RouteOffers } from './price-table.js'
import type { ChargeRequest, PaymentMethod } from './method.js'
import { type Challenge, computeId, decodeJson, encodeJson, verifyId } from '../protocol/challenge.js'
import { NONCE_KEY } from '../protocol/challenge-nonce.js'
import { issueChallenges } from './issue.js'
import { verifyChallenge } from './verify.js'

const KEY = 'challenges-test-key-0123456789-abcdefghijkl'
const NOW = Date.parse('2026-12-01T10:00:00Z')
const route = { match: 'GET /v1/cheap' } as RouteConfig
const quoted: ChargeRequest = { amount: '500000', currency: 'usd' }
const method = {
  name: 'stripe',
  quote: () => ({ ok: false, reason: '' }),
  settle: async () => ({ reference: '' }),
} as PaymentMethod
const routeOffers: RouteOffers = {
  route,
  offers: [{ method, intent: 'charge', request: quoted, encodedRequest: encodeJson(quoted) }],
  unavailable: [],
}
const context = { realm: 'api.example.com', secretKey: KEY, ttlMs: 60_000, now: NOW }
const verify = (challenge: Challenge) =>
  verifyChallenge(challenge, {
    routeOffers,
    realm: 'api.example.com',
    secretKeys: [KEY],
    now: NOW + 1_000,
    ttlMs: 300_000,
    digestMatches: () => true,
  })

describe('issueChallenges: ids', () => {
  it('gives 10,000 distinct ids for one route in the same millisecond, each verifying', async () => {
    const issued = await Promise.all(Array.from({ length: 10_000 }, () => issueChallenges(routeOffers, context)))
    const challenges = issued.map((i) => i.challenges[0]!)
    expect(new Set(challenges.map((c) => c.id)).size).toBe(10_000)
    expect(challenges.every((c) => verifyId([KEY], c))).toBe(true)
  })

  it('puts 256 random bits under _mppx_nonce beside the route, as mppx does', async () => {
    const { challenges } = await issueChallenges(routeOffers, context)
    const opaque = decodeJson(challenges[0]!.opaque!) as Record<string, string>
    expect(Object.keys(opaque).sort()).toEqual([NONCE_KEY, 'route'])
    expect(opaque.route).toBe('GET /v1/cheap')
    expect(opaque[NONCE_KEY]).toMatch(/^0x[0-9a-f]{64}$/)
    expect(verify(challenges[0]!)).toMatchObject({ ok: true, bound: {} })
  })

  it('still accepts a challenge issued without a nonce (the previous release) until it expires', () => {
    const bound = {
      realm: 'api.example.com',
      method: 'stripe',
      intent: 'charge',
      request: encodeJson(quoted),
      expires: new Date(NOW + 60_000).toISOString(),
      opaque: encodeJson({ route: route.match }),
    }
    const old: Challenge = { id: computeId(KEY, bound), ...bound }
    expect(verify(old)).toMatchObject({ ok: true, bound: {} })
    const late = verifyChallenge(old, {
      routeOffers,
      realm: 'api.example.com',
      secretKeys: [KEY],
      now: NOW + 60_000,
      ttlMs: 300_000,
      digestMatches: () => true,
    })
    expect(late).toMatchObject({ ok: true, expired: true })
  })

  it('refuses a challenge whose nonce was changed', async () => {
    const { challenges } = await issueChallenges(routeOffers, context)
    const opaque = decodeJson(challenges[0]!.opaque!) as Record<string, string>
    const altered = { ...challenges[0]!, opaque: encodeJson({ ...opaque, [NONCE_KEY]: `0x${'00'.repeat(32)}` }) }
    expect(verify(altered)).toMatchObject({ ok: false, problem: 'invalid-challenge' })
  })

  it('binds a per-payment method’s fields beside the nonce and hands back only those', async () => {
    const deposit = {
      ...method,
      name: 'tempo',
      issuer: {
        fields: ['recipient'],
        createsBackendObject: false,
        issue: async (r: ChargeRequest) => ({ request: { ...r, recipient: '0x11' }, bound: { paymentIntent: 'pi_1' } }),
      },
    } as PaymentMethod
    const offers: RouteOffers = {
      route,
      offers: [{ method: deposit, intent: 'charge', request: quoted, encodedRequest: encodeJson(quoted) }],
      unavailable: [],
    }
    const [a, b] = await Promise.all([issueChallenges(offers, context), issueChallenges(offers, context)])
    expect(a.challenges[0]!.id).not.toBe(b.challenges[0]!.id)
    const verdict = verifyChallenge(a.challenges[0]!, {
      routeOffers: offers,
      realm: 'api.example.com',
      secretKeys: [KEY],
      now: NOW,
      ttlMs: 300_000,
      digestMatches: () => true,
    })
    expect(verdict).toMatchObject({ ok: true, bound: { paymentIntent: 'pi_1' } })
  })
})
