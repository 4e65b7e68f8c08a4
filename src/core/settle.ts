import type { RouteConfig } from '../config/types.js'
import type { Logger } from '../log/logger.js'
import { BackendUnavailable, type ChargeRequest, PaymentRefused, type Settlement } from './method.js'
import type { Credential } from '../protocol/credential.js'
import type { Claims } from '../store/ports.js'
import { StoreUnavailable } from '../store/types.js'
import { methodClaims, releaseAll } from './claims.js'
import type { Offer } from './price-table.js'
import { type SettlementAttempt, SettlementTakenOver } from './settlement.js'

/** Why a settlement moved no money, as the core answers it. */
export type SettleFailure =
  /** the payer's payment: 402 with fresh challenges */
  | { readonly kind: 'refused'; readonly problem: PaymentRefused['problem']; readonly detail: string }
  /** the payment backend: 503 */
  | { readonly kind: 'backend'; readonly backend: string; readonly detail: string }
  /** the store, during settlement: 503 */
  | { readonly kind: 'store' }
  /** another request took this settlement over: 503, retry */
  | { readonly kind: 'taken-over' }
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
  /** the handle of the earlier attempt this one re-drives */
  readonly redrive?: Readonly<Record<string, string>>
}

/**
 * Settles a payment whose record this attempt holds. A refusal, or a failure before any call that
 * may move money, forgets the record and gives back every key the method claimed, so the payer can
 * try again. A failure after such a call keeps them: the same credential re-drives it.
 */
export async function settlePayment(
  claims: Claims,
  attempt: SettlementAttempt,
  logger: Logger,
  input: SettleRequest,
): Promise<SettleResult> {
  const { offer, credential } = input
  const method = offer.method.name
  const challengeId = credential.challenge.id
  const held = methodClaims(claims, method, challengeId)
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
      settling: (handle) => attempt.settling(handle),
      ...(input.redrive && { redrive: input.redrive }),
    })
  } catch (error) {
    const failure = failureOf(error, logger, { route: input.route.match, method, challengeId })
    if (failure.kind === 'taken-over') return { ok: false, failure }
    if (failure.kind === 'refused' || !attempt.moneyMayHaveMoved) {
      await attempt
        .drop()
        .catch((dropError) => logger.error('could not drop a settlement record', { challengeId, error: dropError }))
      await releaseAll(claims, held.held(), challengeId, logger)
    } else {
      // Money may have moved: the record stays settling, given up at once so a retry re-drives it.
      await attempt.suspend().catch(() => undefined)
    }
    return { ok: false, failure }
  }
  if (settlement.replayed) {
    // The backend had already settled this challenge in an earlier attempt (an outage mid-call).
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
  if (error instanceof SettlementTakenOver) {
    logger.warn('settlement taken over by another request', at)
    return { kind: 'taken-over' }
  }
  logger.error('unexpected settlement error', { method: at.method, error })
  return { kind: 'unexpected' }
}
