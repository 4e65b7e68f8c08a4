import type { Offer, RouteOffers } from './price-table.js'
import { type Challenge, computeId, encodeJson, serialize } from '../protocol/challenge.js'
import { freshNonce, withNonce } from '../protocol/challenge-nonce.js'

export interface ChallengeContext {
  readonly realm: string
  /** the current HMAC key; previous keys only verify */
  readonly secretKey: string
  readonly ttlMs: number
  readonly now: number
  /** `sha-256=…` of the request body, when it has one */
  readonly digest?: string
}

/** An offer whose method could not complete its request for this 402 (its backend failed). */
export interface IssueFailure {
  readonly method: string
  readonly error: unknown
}

/**
 * Fresh challenges for a route, one per offer. Stateless: the id is an HMAC over the challenge
 * (with a random nonce in opaque, so every id is unique), so nothing is stored on a 402 and any
 * replica holding the key can verify it later. Offers whose method completes the request per 402
 * (an `issuer`) are left out when that fails; the failures are returned so the caller can log them
 * and answer 503 when nothing is left.
 */
export async function issueChallenges(
  routeOffers: RouteOffers,
  context: ChallengeContext,
  /** the offers to issue, in order (the client's preference); default all of the route's */
  offers: readonly Offer[] = routeOffers.offers,
): Promise<{ challenges: Challenge[]; failures: IssueFailure[] }> {
  const expires = new Date(context.now + context.ttlMs).toISOString()
  const description = routeOffers.route.description
  const failures: IssueFailure[] = []
  const issued = await Promise.all(
    offers.map(async (offer): Promise<Challenge | undefined> => {
      let request = offer.encodedRequest
      // Every challenge gets its own nonce, so no two ids collide (issue 11).
      let opaque = encodeJson(withNonce({ route: routeOffers.route.match }, freshNonce(context.now)))
      const { issuer } = offer.method
      if (issuer) {
        try {
          const completed = await issuer.issue(offer.request, routeOffers.route)
          request = encodeJson(completed.request)
          opaque = encodeJson(
            withNonce({ ...completed.bound, route: routeOffers.route.match }, freshNonce(context.now)),
          )
        } catch (error) {
          failures.push({ method: offer.method.name, error })
          return undefined
        }
      }
      return challengeFor(offer, { request, opaque, expires }, context, description)
    }),
  )
  return { challenges: issued.filter((c): c is Challenge => c !== undefined), failures }
}

function challengeFor(
  offer: Offer,
  fields: { request: string; opaque: string; expires: string },
  context: ChallengeContext,
  description: string | undefined,
): Challenge {
  const bound = {
    realm: context.realm,
    method: offer.method.name,
    intent: offer.intent,
    request: fields.request,
    expires: fields.expires,
    ...(context.digest !== undefined && { digest: context.digest }),
    opaque: fields.opaque,
  }
  return { id: computeId(context.secretKey, bound), ...bound, ...(description !== undefined && { description }) }
}

export function serializeAll(challenges: readonly Challenge[]): string[] {
  return challenges.map(serialize)
}
