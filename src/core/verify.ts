import type { ChargeRequest } from './method.js'
import { type Challenge, decodeJson, encodeJson, verifyId } from '../protocol/challenge.js'
import { issuedAtOf, withoutNonce } from '../protocol/challenge-nonce.js'
import type { ProblemType } from '../protocol/problem.js'
import type { Offer, RouteOffers } from './price-table.js'

export type Verdict =
  | {
      readonly ok: true
      readonly offer: Offer
      readonly expiresAtMs: number
      /**
       * past its expiry: refused (`payment-expired`) unless this credential already holds the
       * challenge's settlement record; expiry is judged at the first claim only
       */
      readonly expired: boolean
      /** when it was issued (unix ms): a store that lost its memory refuses what came before */
      readonly issuedAtMs: number
      /** the request being paid: the offer's, with the fields its method issued for this challenge */
      readonly request: ChargeRequest
      /** what the method bound into the challenge's opaque besides the route */
      readonly bound: Readonly<Record<string, string>>
    }
  | { readonly ok: false; readonly problem: ProblemType; readonly detail: string }

export interface VerifyContext {
  readonly routeOffers: RouteOffers
  readonly realm: string
  /** current key first, then the previous ones (rotation) */
  readonly secretKeys: readonly string[]
  readonly now: number
  /** the challenge lifetime, for challenges whose nonce carries no issuing time */
  readonly ttlMs: number
  /** whether the echoed `digest` (or its absence) matches the body of this request */
  readonly digestMatches: (digest: string | undefined) => boolean
}

const refuse = (problem: ProblemType, detail: string): Verdict => ({ ok: false, problem, detail })

/**
 * Everything the core checks about an echoed challenge before any money moves: it was issued by
 * us (HMAC), for this realm and route at today's price (binding), and was made for this body
 * (digest); and whether it has expired, which the core weighs against the settlement record.
 * Pure: single use and settlement come after it.
 */
export function verifyChallenge(challenge: Challenge, context: VerifyContext): Verdict {
  if (!verifyId(context.secretKeys, challenge))
    return refuse('invalid-challenge', 'The challenge was not issued by this gateway, or was altered.')
  if (challenge.realm !== context.realm)
    return refuse('invalid-challenge', `The challenge was issued for realm "${challenge.realm}", not this one.`)

  const { routeOffers } = context
  // The nonce only makes the id unique; challenges issued without one (the previous release) still verify.
  const opaque = decodeMap(challenge.opaque) ?? {}
  const { route, ...bound } = withoutNonce(opaque)
  if (route !== routeOffers.route.match)
    return refuse('invalid-challenge', 'The challenge was issued for another route.')
  const offer = routeOffers.offers.find((o) => o.method.name === challenge.method && o.intent === challenge.intent)
  if (!offer) return refuse('invalid-challenge', `This route does not accept ${challenge.method}/${challenge.intent}.`)
  // Fields a method issues per challenge (a deposit address) are vouched for by the HMAC; the rest must match today's quote.
  const { issuer } = offer.method
  const issued = issuer?.fields ?? []
  if (!issuer && Object.keys(bound).length > 0)
    return refuse('invalid-challenge', 'The challenge was issued for another route.')
  const echoed = decodeObject(challenge.request)
  const matches =
    issued.length === 0
      ? echoed && encodeJson(echoed) === offer.encodedRequest
      : echoed && encodeJson(omit(echoed, issued)) === encodeJson(omit(offer.request, issued))
  if (!matches) {
    return refuse(
      'invalid-challenge',
      `The challenge's ${differingFields(challenge.request, offer.request)} no longer match what this route charges.`,
    )
  }

  if (challenge.expires === undefined) return refuse('invalid-challenge', 'The challenge has no expiry.')
  const expiresAtMs = Date.parse(challenge.expires)
  if (Number.isNaN(expiresAtMs)) return refuse('invalid-challenge', 'The challenge expiry is not a valid timestamp.')

  if (!context.digestMatches(challenge.digest))
    return refuse('invalid-challenge', 'The request body does not match the digest the challenge was issued for.')
  const stamped = issuedAtOf(opaque)
  return {
    ok: true,
    offer,
    expiresAtMs,
    expired: expiresAtMs <= context.now,
    issuedAtMs: stamped !== undefined && stamped <= expiresAtMs ? stamped : expiresAtMs - context.ttlMs,
    request: issued.length === 0 ? offer.request : (echoed as unknown as ChargeRequest),
    bound,
  }
}

function omit(value: object, fields: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([name]) => !fields.includes(name)))
}

function decodeObject(encoded: string): Record<string, unknown> | undefined {
  try {
    const value = decodeJson(encoded)
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** The opaque's string map (verifyId already rejected anything else). */
function decodeMap(encoded: string | undefined): Record<string, string> | undefined {
  if (encoded === undefined) return undefined
  const value = decodeObject(encoded)
  if (!value || !Object.values(value).every((v) => typeof v === 'string')) return undefined
  return value as Record<string, string>
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
  const differing = [...names].filter(
    (name) => encodeJson(decoded[name] ?? null) !== encodeJson((expected as Record<string, unknown>)[name] ?? null),
  )
  return differing.length > 0 ? `fields (${differing.join(', ')})` : 'request fields'
}
