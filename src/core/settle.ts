import type { RouteConfig } from '../config/types.js'
import type { Logger } from '../log/logger.js'
import { BackendUnavailable, type ChargeRequest, PaymentRefused, type Settlement } from './method.js'
import type { Credential } from '../protocol/credential.js'
import type { Claims } from '../store/ports.js'
import { StoreUnavailable } from '../store/types.js'
import { challengeKey, methodClaims, releaseAll } from './claims.js'
import type { Offer } from './price-table.js'

/** Why a settlement moved no money, as the core answers it. */
export type SettleFailure =
  /** the payer's payment: 402 with fresh challenges */
  | { readonly kind: 'refused'; readonly problem: PaymentRefused['problem']; readonly detail: string }
  /** the payment backend: 503 */
  | { readonly kind: 'backend'; readonly backend: string; readonly detail: string }
  /** the store, during settlement: 503 */
  | { readonly kind: 'store' }
  /** a bug: 500 */
  | { readonly kind: 'unexpected' }

export type SettleResult =
  | { readonly ok: true; readonly settlement: Settlement }
  | { readonly ok: false; readonly failure: SettleFailure }

export interface SettleRequest {
  readonly offer: Offer
  readonly route: RouteConfig
  readonly realm: string
  readonly credential: Credential
  /** from the verdict: the request being paid, what the issuer bound, and the expiry */
  readonly request: ChargeRequest
  readonly bound: Readonly<Record<string, string>>
  readonly expiresAtMs: number
}

/**
 * Settles a payment whose challenge is claimed. On failure no money moved: the challenge claim and
 * every key the method claimed are given back, so the payer can try again with the same credential.
 */
export async function settlePayment(claims: Claims, logger: Logger, input: SettleRequest): Promise<SettleResult> {
  const { offer, credential } = input
  const method = offer.method.name
  const challengeId = credential.challenge.id
  // Keys the method claimed (transaction hashes): released with the challenge if settling fails.
  const held = methodClaims(claims, method)
  let settlement: Settlement
  try {
    settlement = await offer.method.settle({
      challengeId,
      realm: input.realm,
      route: input.route,
      request: input.request,
      bound: input.bound,
      payload: credential.payload,
      source: credential.source,
      expiresAtMs: input.expiresAtMs,
      claimOnce: held.claimOnce,
      release: held.release,
    })
  } catch (error) {
    await releaseAll(claims, [challengeKey(challengeId), ...held.held()], logger, challengeId)
    return { ok: false, failure: failureOf(error, logger, { route: input.route.match, method, challengeId }) }
  }
  if (settlement.replayed) {
    // The backend had already settled this challenge in an attempt whose claim was released
    // (an outage mid-call); the claim we hold proves it was never served, so it is served now.
    logger.warn('payment backend replayed an earlier settlement for an unserved challenge', {
      challengeId,
      reference: settlement.reference,
    })
  }
  return { ok: true, settlement }
}

function failureOf(
  error: unknown,
  logger: Logger,
  at: { readonly route: string; readonly method: string; readonly challengeId: string },
): SettleFailure {
  if (error instanceof PaymentRefused) {
    logger.info('payment refused', { ...at, problem: error.problem, detail: error.detail })
    return { kind: 'refused', problem: error.problem, detail: error.detail }
  }
  if (error instanceof BackendUnavailable) {
    logger.error('payment backend unavailable', { method: at.method, backend: error.backend, detail: error.detail })
    return { kind: 'backend', backend: error.backend, detail: error.detail }
  }
  if (error instanceof StoreUnavailable) {
    logger.error('replay store unavailable during settlement', { error })
    return { kind: 'store' }
  }
  logger.error('unexpected settlement error', { method: at.method, error })
  return { kind: 'unexpected' }
}
