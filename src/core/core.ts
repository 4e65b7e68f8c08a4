import type { GatewayConfig } from '../config/types.js'
import type { Logger } from '../log/logger.js'
import * as BodyDigest from '../protocol/body-digest.js'
import { type Credential, MalformedCredential, extract, parse as parseCredential } from '../protocol/credential.js'
import { type ProblemType, gatewayProblem } from '../protocol/problem.js'
import type { Claims, Ledger, RateCounter, Settlements } from '../store/ports.js'
import { CLAIM_GRACE_MS } from './claims.js'
import type { Decision, ForwardDecision, PaymentInput, RespondDecision } from './decision.js'
import { type Committed, type Paid, commitPaid, parsePaid } from './ledger.js'
import { type Count, OutcomeDraft } from './outcome.js'
import type { RouteOffers } from './price-table.js'
import { receiptFor } from './receipt.js'
import { refuseWithChallenges } from './refusal.js'
import { RETRY_AFTER_SECONDS, problemResponse, respondWith, unavailableResponse } from './respond.js'
import { settlePayment } from './settle.js'
import { VALIDATION_REFUSED, invalidResponse } from './validation.js'
import { SettlementAttempt, credentialFingerprint } from './settlement.js'
import type { BeginResult } from './settlement-record.js'
import { verifyChallenge } from './verify.js'

const STORE_DOWN = 'The payment ledger is unreachable; nothing was charged. Retry shortly.'
/** a method that names no settle timeout gets this long before another request may take over */
const DEFAULT_SETTLE_LEASE_MS = 60_000
/** how long forwarding may take where the caller does not say (the Hono door: the handler's time) */
const DEFAULT_FORWARD_LEASE_MS = 60_000

export interface PaymentCoreDeps {
  readonly config: Pick<
    GatewayConfig,
    'realm' | 'challengeTtlMs' | 'recoveryWindowMs' | 'challengeRateLimit' | 'depositIntentRateLimit'
  >
  readonly stores: {
    readonly claims: Claims
    readonly settlements: Settlements
    readonly rateCounter: RateCounter
    readonly ledger: Ledger
  }
  /** how long forwarding a paid request may take (the upstream timeout): the lease while it forwards */
  readonly forwardLeaseMs?: number
  readonly logger: Logger
  /** unix ms */
  readonly now: () => number
  /** current HMAC key first, then previous keys still accepted */
  readonly secretKeys: readonly string[]
}

export interface PaymentCore {
  /**
   * Verify → claim → settle, or a refusal with fresh challenges. Nothing may reach the upstream
   * unless this returns `forward`: a payment settled and its single use was claimed.
   */
  handle(input: PaymentInput): Promise<Decision>
  /** The answer for a route that cannot be paid at all (no method enabled), before its body is read. */
  precheck(route: RouteOffers): RespondDecision | undefined
  /**
   * Reports settlement records left unfinished (a dead process, a payer who never came back): an
   * error line each, with what finds the payment (the reference or the method's handle); returns
   * the counters to move. Each record is reported by one replica, once per lease.
   */
  sweep(): Promise<readonly Count[]>
}

/** A record is reported once its lease ended this long ago and nobody came back for it. */
export const UNFINISHED_AFTER_MS = 60_000

/** The payment decisions for one loaded config; transport-neutral (no sockets, streams or Web objects). */
export function createPaymentCore(deps: PaymentCoreDeps): PaymentCore {
  const { config, stores, logger, now, secretKeys } = deps
  const forwardLeaseMs = deps.forwardLeaseMs ?? DEFAULT_FORWARD_LEASE_MS
  const refusalDeps = { config, rateCounter: stores.rateCounter, logger, now, secretKeys }

  const unavailable = (draft: OutcomeDraft, backend: string, detail: string) => {
    draft.count({ metric: 'backendError', args: [backend] })
    return unavailableResponse(draft, `${backend}-unavailable`, detail)
  }

  const precheck = (route: RouteOffers): RespondDecision | undefined => {
    if (route.offers.length > 0) return undefined
    // The sample config before any method is set up: fail closed, and say what to do.
    return unavailableResponse(
      new OutcomeDraft(),
      'no-payment-method',
      'No payment method is enabled for this route yet: the gateway log says what to set (or run it with --sandbox).',
      undefined,
    )
  }

  const handle = async (input: PaymentInput): Promise<Decision> => {
    const early = precheck(input.route)
    if (early) return early
    const { route, body } = input
    const routeName = route.route.match
    const draft = new OutcomeDraft()
    const authorization = extract(input.headers.authorization)
    const digest = body && body.length > 0 ? BodyDigest.compute(body) : undefined
    const refuseWith = (type: ProblemType, detail: string, gate?: () => Promise<RespondDecision | undefined>) =>
      refuseWithChallenges(refusalDeps, input, draft, { type, detail, digest }, gate)
    const validation = route.route.validate
    /** the route's validation answer when it refuses the request (or cannot be had); undefined: valid */
    const refusedByValidation = async (): Promise<RespondDecision | undefined> => {
      // a door that cannot ask the upstream refuses such a config up front (hono/payments.ts)
      if (!input.validate) throw new Error(`route ${routeName} has validate, and no validator was given`)
      const answer = await input.validate()
      if (answer.kind === 'valid') return undefined
      if (answer.kind === 'invalid') {
        draft.set(VALIDATION_REFUSED)
        return respondWith(draft, invalidResponse(answer))
      }
      draft.count({ metric: 'backendError', args: ['upstream'] })
      return unavailableResponse(
        draft,
        'validation-unavailable',
        `${answer.detail} Nothing was charged; retry the same credential shortly.`,
      )
    }

    if (authorization.kind === 'multiple')
      return refuseWith('bad-request', 'Send exactly one Payment credential; this request carries several.')
    if (authorization.kind === 'none') {
      const { description } = route.route
      return refuseWith(
        'payment-required',
        description ? `Payment is required: ${description}.` : 'Payment is required.',
        validation?.before.challenge ? refusedByValidation : undefined,
      )
    }

    let credential: Credential
    try {
      credential = parseCredential(authorization.token)
    } catch (error) {
      if (error instanceof MalformedCredential)
        return refuseWith('malformed-credential', `The credential is malformed: ${error.message}`)
      throw error
    }

    const { challenge } = credential
    const verdict = verifyChallenge(challenge, {
      routeOffers: route,
      realm: config.realm,
      secretKeys,
      now: now(),
      ttlMs: config.challengeTtlMs,
      digestMatches: (echoed) =>
        echoed === undefined ? digest === undefined : body !== undefined && BodyDigest.matches(echoed, body),
    })
    // The echoed method is the client's word: only a method this route offers becomes a label.
    const methodName = route.offers.find((o) => o.method.name === challenge.method)?.method.name ?? 'unknown'
    draft.set({ paymentMethod: methodName, challengeId: challenge.id.slice(0, 64) })
    if (!verdict.ok) {
      draft.set({ payment: 'refused' })
      draft.count({ metric: 'verification', args: [methodName, verdict.problem] })
      return refuseWith(verdict.problem, verdict.detail)
    }

    const { offer } = verdict
    const method = offer.method.name
    const claimedAt = now()
    const attempt = new SettlementAttempt(stores.settlements, now, {
      id: challenge.id,
      fingerprint: credentialFingerprint(credential),
      method,
      settleLeaseMs: offer.method.settleTimeoutMs ?? DEFAULT_SETTLE_LEASE_MS,
      forwardLeaseMs,
      keepUntil: Math.max(verdict.expiresAtMs + CLAIM_GRACE_MS, claimedAt + config.recoveryWindowMs),
    })
    let begun: BeginResult
    try {
      const policy = route.route.onUpstreamFailure
      begun = await attempt.begin({
        issuedAt: verdict.issuedAtMs,
        expired: verdict.expired,
        ...(policy?.action === 'retry' && { retry: policy }),
      })
    } catch (error) {
      logger.error('replay store unavailable; refusing paid request', { route: routeName, error })
      return unavailable(draft, 'store', STORE_DOWN)
    }
    const refused = (problem: ProblemType, detail: string, replay = false) => {
      draft.set({ payment: 'refused' })
      if (replay) draft.count({ metric: 'replayRejected', args: [method] })
      draft.count({ metric: 'verification', args: [method, problem] })
      return refuseWith(problem, detail)
    }
    switch (begun.kind) {
      case 'expired':
        return refused('payment-expired', `The challenge expired at ${challenge.expires}.`)
      case 'stale':
        return refused(
          'invalid-challenge',
          'This challenge was issued before the payment store was reset, so the gateway cannot tell whether it was used; pay a fresh challenge.',
        )
      case 'used':
        return refused('invalid-challenge', 'This challenge has already been used.', true)
      case 'taken':
        return refused('invalid-challenge', 'This challenge is already being paid with another credential.', true)
      case 'busy':
        return inProgress(draft, begun.retryAfterMs)
      case 'paid':
      case 'retry': {
        // settled before, not served (the payer left, a replica died), or its upstream failed: forward again
        const paid = parsePaid(begun.paid)
        if (!paid) {
          logger.error('settlement record holds no readable payment', { challengeId: challenge.id })
          return internalError(draft)
        }
        const from = begun.kind === 'paid' ? 'paid' : 'failed'
        draft.set({ payment: 'paid', reference: paid.settlement.reference, recovered: from })
        draft.count({ metric: 'settlementRecovered', args: [method, from] })
        return forward(paid, authorization.others, attempt, draft)
      }
    }

    const redrive = begun.kind === 'redrive' ? begun.handle : undefined
    if (validation && !redrive) {
      // Asked before anything is charged: a refusal (or no answer) gives the record back untouched.
      const refusedBy = await refusedByValidation()
      if (refusedBy) {
        await attempt
          .drop()
          .catch((error) => logger.error('could not drop a settlement record', { challengeId: challenge.id, error }))
        return refusedBy
      }
    }
    const settled = await settlePayment(stores.claims, attempt, logger, {
      offer,
      route: route.route,
      realm: config.realm,
      credential,
      request: verdict.request,
      bound: verdict.bound,
      expiresAtMs: verdict.expiresAtMs,
      ...(redrive && { redrive }),
    })
    if (!settled.ok) {
      const { failure } = settled
      if (failure.kind === 'refused') return refused(failure.problem, failure.detail)
      if (failure.kind === 'backend') {
        return unavailable(
          draft,
          failure.backend,
          `${failure.detail} The request was not forwarded; retry the same credential shortly (it is never charged twice).`,
        )
      }
      if (failure.kind === 'store') return unavailable(draft, 'store', STORE_DOWN)
      if (failure.kind === 'taken-over') return inProgress(draft, RETRY_AFTER_SECONDS * 1000)
      return internalError(draft)
    }

    const { settlement } = settled
    if (redrive) {
      draft.set({ recovered: 'settling' })
      draft.count({ metric: 'settlementRecovered', args: [method, 'settling'] })
    }
    draft.set({ payment: 'paid', reference: settlement.reference })
    draft.count({ metric: 'verification', args: [method, 'success'] })
    draft.count({ metric: 'settled', args: [routeName, method, verdict.request.currency, verdict.request.amount] })
    const paid: Paid = {
      challengeId: challenge.id,
      route: routeName,
      method,
      amount: verdict.request.amount,
      currency: verdict.request.currency,
      settlement: {
        reference: settlement.reference,
        ...(settlement.receipt && { receipt: settlement.receipt }),
      },
      settledAt: new Date(now()).toISOString(),
    }
    try {
      if (!(await attempt.paid(JSON.stringify(paid)))) return inProgress(draft, RETRY_AFTER_SECONDS * 1000)
    } catch (error) {
      // The money moved: serve it. The record stays settling; a retry would re-drive it (no new charge).
      logger.error('settled payment could not be marked paid; forwarding it', {
        challengeId: challenge.id,
        reference: settlement.reference,
        error,
      })
    }
    return forward(paid, authorization.others, attempt, draft)
  }

  const forward = (
    paid: Paid,
    others: string | undefined,
    attempt: SettlementAttempt,
    draft: OutcomeDraft,
  ): ForwardDecision => {
    let committed: Promise<Committed> | undefined
    return {
      kind: 'forward',
      authorization: others,
      receipt: receiptFor(paid),
      outcome: draft.done(),
      // once only: a second call gets the first call's result, so no payment is written twice
      commit: (result) => (committed ??= commitPaid(stores.ledger, attempt, logger, paid, result)),
    }
  }

  const inProgress = (draft: OutcomeDraft, retryAfterMs: number) =>
    unavailableResponse(
      draft,
      'payment-in-progress',
      'Another request is settling or serving this credential right now; retry the same credential shortly.',
      Math.max(1, Math.ceil(retryAfterMs / 1000)),
    )

  const internalError = (draft: OutcomeDraft) => {
    draft.set({ payment: 'unavailable' })
    return respondWith(
      draft,
      problemResponse(
        gatewayProblem(
          500,
          'internal-payment-error',
          'Internal Payment Error',
          'The gateway failed while settling the payment.',
        ),
      ),
    )
  }

  const sweep = async (): Promise<readonly Count[]> => {
    const counts: Count[] = []
    for (const { id, record } of await stores.settlements.unfinished(now() - UNFINISHED_AFTER_MS, 100)) {
      const paid = record.paid ? parsePaid(record.paid) : undefined
      logger.error('settlement left unfinished', {
        challengeId: id,
        state: record.state,
        method: record.method,
        ...(paid && { reference: paid.settlement.reference, route: paid.route, amount: paid.amount }),
        ...(record.handle && { handle: record.handle }),
        claimedAt: new Date(record.claimedAt).toISOString(),
      })
      counts.push({ metric: 'settlementUnfinished', args: [record.method, record.state] })
    }
    return counts
  }

  return { handle, precheck, sweep }
}
