import type { GatewayConfig } from '../config/types.js'
import type { Logger } from '../log/logger.js'
import * as BodyDigest from '../protocol/body-digest.js'
import { type Credential, MalformedCredential, extract, parse as parseCredential } from '../protocol/credential.js'
import { type ProblemType, gatewayProblem } from '../protocol/problem.js'
import type { Claims, Ledger, RateCounter } from '../store/ports.js'
import { claimChallenge } from './claims.js'
import type { Decision, PaymentInput, RespondDecision } from './decision.js'
import { type Paid, commitPaid } from './ledger.js'
import { OutcomeDraft } from './outcome.js'
import type { RouteOffers } from './price-table.js'
import { receiptFor } from './receipt.js'
import { refuseWithChallenges } from './refusal.js'
import { RETRY_AFTER_SECONDS, problemResponse, respondWith } from './respond.js'
import { settlePayment } from './settle.js'
import { verifyChallenge } from './verify.js'

const STORE_DOWN = 'The payment ledger is unreachable; nothing was charged. Retry shortly.'

export interface PaymentCoreDeps {
  readonly config: Pick<GatewayConfig, 'realm' | 'challengeTtlMs' | 'challengeRateLimit' | 'depositIntentRateLimit'>
  readonly stores: { readonly claims: Claims; readonly rateCounter: RateCounter; readonly ledger: Ledger }
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
}

/** The payment decisions for one loaded config; transport-neutral (no sockets, streams or Web objects). */
export function createPaymentCore(deps: PaymentCoreDeps): PaymentCore {
  const { config, stores, logger, now, secretKeys } = deps
  const refusalDeps = { config, rateCounter: stores.rateCounter, logger, now, secretKeys }

  const unavailable = (draft: OutcomeDraft, backend: string, detail: string) => {
    draft.set({ payment: 'unavailable' })
    draft.count({ metric: 'backendError', args: [backend] })
    return respondWith(
      draft,
      problemResponse(gatewayProblem(503, `${backend}-unavailable`, 'Service Unavailable', detail), {
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      }),
    )
  }

  const precheck = (route: RouteOffers): RespondDecision | undefined => {
    if (route.offers.length > 0) return undefined
    // The sample config before any method is set up: fail closed, and say what to do.
    const draft = new OutcomeDraft()
    draft.set({ payment: 'unavailable' })
    return respondWith(
      draft,
      problemResponse(
        gatewayProblem(
          503,
          'no-payment-method',
          'Service Unavailable',
          'No payment method is enabled for this route yet: the gateway log says what to set (or run it with --sandbox).',
        ),
      ),
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
    const refuseWith = (type: ProblemType, detail: string) =>
      refuseWithChallenges(refusalDeps, input, draft, { type, detail, digest })

    if (authorization.kind === 'multiple')
      return refuseWith('bad-request', 'Send exactly one Payment credential; this request carries several.')
    if (authorization.kind === 'none') {
      const { description } = route.route
      return refuseWith(
        'payment-required',
        description ? `Payment is required: ${description}.` : 'Payment is required.',
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
    try {
      if (!(await claimChallenge(stores.claims, challenge.id, verdict.expiresAtMs))) {
        draft.set({ payment: 'refused' })
        draft.count({ metric: 'replayRejected', args: [method] })
        draft.count({ metric: 'verification', args: [method, 'invalid-challenge'] })
        return refuseWith('invalid-challenge', 'This challenge has already been used.')
      }
    } catch (error) {
      logger.error('replay store unavailable; refusing paid request', { route: routeName, error })
      return unavailable(draft, 'store', STORE_DOWN)
    }

    const settled = await settlePayment(stores.claims, logger, {
      offer,
      route: route.route,
      realm: config.realm,
      credential,
      request: verdict.request,
      bound: verdict.bound,
      expiresAtMs: verdict.expiresAtMs,
    })
    if (!settled.ok) {
      const { failure } = settled
      if (failure.kind === 'refused') {
        draft.set({ payment: 'refused' })
        draft.count({ metric: 'verification', args: [method, failure.problem] })
        return refuseWith(failure.problem, failure.detail)
      }
      if (failure.kind === 'backend') {
        return unavailable(
          draft,
          failure.backend,
          `${failure.detail} The request was not forwarded; retry the same credential shortly (it is never charged twice).`,
        )
      }
      if (failure.kind === 'store') return unavailable(draft, 'store', STORE_DOWN)
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

    const { settlement } = settled
    draft.set({ payment: 'paid', reference: settlement.reference })
    draft.count({ metric: 'verification', args: [method, 'success'] })
    draft.count({ metric: 'settled', args: [routeName, method, verdict.request.currency, verdict.request.amount] })
    const paid: Paid = {
      challengeId: challenge.id,
      route: routeName,
      method,
      amount: verdict.request.amount,
      currency: verdict.request.currency,
      settlement,
      settledAt: new Date(now()).toISOString(),
    }
    let committed: ReturnType<typeof commitPaid> | undefined
    return {
      kind: 'forward',
      authorization: authorization.others,
      receipt: receiptFor(paid),
      outcome: draft.done(),
      // once only: a second call gets the first call's result, so no payment is written twice
      commit: (result) => (committed ??= commitPaid(stores.ledger, logger, paid, result)),
    }
  }

  return { handle, precheck }
}
