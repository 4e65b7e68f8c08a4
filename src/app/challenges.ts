import { type Challenge, computeId, serialize } from '../protocol/challenge.js'
import type { RouteOffers } from '../methods/offers.js'

export interface ChallengeContext {
  readonly realm: string
  /** the current HMAC key; previous keys only verify */
  readonly secretKey: string
  readonly ttlMs: number
  readonly now: number
  /** `sha-256=…` of the request body, when it has one */
  readonly digest?: string
}

/**
 * Fresh challenges for a route, one per offer. Stateless: the id is an HMAC over the challenge,
 * so nothing is stored on a 402 and any replica holding the key can verify it later.
 */
export function issueChallenges(routeOffers: RouteOffers, context: ChallengeContext): Challenge[] {
  const expires = new Date(context.now + context.ttlMs).toISOString()
  const description = routeOffers.route.description
  return routeOffers.offers.map((offer) => {
    const bound = {
      realm: context.realm,
      method: offer.method.name,
      intent: offer.intent,
      request: offer.encodedRequest,
      expires,
      ...(context.digest !== undefined && { digest: context.digest }),
      opaque: routeOffers.opaque,
    }
    return { id: computeId(context.secretKey, bound), ...bound, ...(description !== undefined && { description }) }
  })
}

export function serializeAll(challenges: readonly Challenge[]): string[] {
  return challenges.map(serialize)
}
