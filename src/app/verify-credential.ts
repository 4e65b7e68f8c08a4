import type { Offer, RouteOffers } from '../methods/offers.js'
import { type Challenge, decodeJson, encodeJson, verifyId } from '../protocol/challenge.js'
import type { ProblemType } from '../protocol/problem.js'

export type Verdict =
  | { readonly ok: true; readonly offer: Offer; readonly expiresAtMs: number }
  | { readonly ok: false; readonly problem: ProblemType; readonly detail: string }

export interface VerifyContext {
  readonly routeOffers: RouteOffers
  readonly realm: string
  /** current key first, then the previous ones (rotation) */
  readonly secretKeys: readonly string[]
  readonly now: number
  /** whether the echoed `digest` (or its absence) matches the body of this request */
  readonly digestMatches: (digest: string | undefined) => boolean
}

const refuse = (problem: ProblemType, detail: string): Verdict => ({ ok: false, problem, detail })

/**
 * Everything the core checks about an echoed challenge before any money moves: it was issued by
 * us (HMAC), for this realm and route at today's price (binding), is still valid (expiry) and was
 * made for this body (digest). Pure: single use and settlement come after it.
 */
export function verifyChallenge(challenge: Challenge, context: VerifyContext): Verdict {
  if (!verifyId(context.secretKeys, challenge)) return refuse('invalid-challenge', 'The challenge was not issued by this gateway, or was altered.')
  if (challenge.realm !== context.realm) return refuse('invalid-challenge', `The challenge was issued for realm "${challenge.realm}", not this one.`)

  const { routeOffers } = context
  if (canonical(challenge.opaque) !== routeOffers.opaque) return refuse('invalid-challenge', 'The challenge was issued for another route.')
  const offer = routeOffers.offers.find((o) => o.method.name === challenge.method && o.intent === challenge.intent)
  if (!offer) return refuse('invalid-challenge', `This route does not accept ${challenge.method}/${challenge.intent}.`)
  if (canonical(challenge.request) !== offer.encodedRequest) {
    return refuse('invalid-challenge', `The challenge's ${differingFields(challenge.request, offer.request)} no longer match what this route charges.`)
  }

  if (challenge.expires === undefined) return refuse('invalid-challenge', 'The challenge has no expiry.')
  const expiresAtMs = Date.parse(challenge.expires)
  if (Number.isNaN(expiresAtMs)) return refuse('invalid-challenge', 'The challenge expiry is not a valid timestamp.')
  if (expiresAtMs <= context.now) return refuse('payment-expired', `The challenge expired at ${challenge.expires}.`)

  if (!context.digestMatches(challenge.digest)) return refuse('invalid-challenge', 'The request body does not match the digest the challenge was issued for.')
  return { ok: true, offer, expiresAtMs }
}

/** Re-encodes a base64url JSON value canonically, so spellings of the same JSON compare equal. */
function canonical(encoded: string | undefined): string | undefined {
  if (encoded === undefined) return undefined
  try {
    return encodeJson(decodeJson(encoded))
  } catch {
    return undefined
  }
}

function differingFields(echoed: string, expected: object): string {
  let decoded: Record<string, unknown> = {}
  try {
    const value = decodeJson(echoed)
    if (value && typeof value === 'object') decoded = value as Record<string, unknown>
  } catch {
    return 'request fields'
  }
  const names = new Set([...Object.keys(decoded), ...Object.keys(expected)])
  const differing = [...names].filter((name) => encodeJson(decoded[name] ?? null) !== encodeJson((expected as Record<string, unknown>)[name] ?? null))
  return differing.length > 0 ? `fields (${differing.join(', ')})` : 'request fields'
}
