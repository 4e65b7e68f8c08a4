import type { GatewayMetrics } from '../metrics/metrics.js'
import type { RouteOffers } from './price-table.js'

/** What happened to a priced request's payment, for the request log. */
export type PaymentOutcome = 'challenged' | 'paid' | 'refused' | 'unavailable' | 'rate-limited' | 'shadow'

/** The metrics a payment decision moves. */
export type CountedMetric =
  | 'challengesIssued'
  | 'verification'
  | 'replayRejected'
  | 'settled'
  | 'settlementRecovered'
  | 'settlementUnfinished'
  | 'paidButUpstreamFailed'
  | 'backendError'
  | 'shadowChallenge'
  | 'shadowRevenue'
  | 'rateLimited'

/** One metric to move: a `GatewayMetrics` counter and its arguments, as data, so the core stays free of prom-client. */
export type Count = {
  [K in CountedMetric]: { readonly metric: K; readonly args: Parameters<GatewayMetrics[K]> }
}[CountedMetric]

/** The request-log fields of a payment; only fields safe to log (never a credential, SPT or Authorization value). */
export interface PaymentLog {
  readonly payment?: PaymentOutcome
  /** the problem type slug of a refusal */
  readonly problem?: string
  /** the payment method used or refused (only one the route offers; else "unknown") */
  readonly paymentMethod?: string
  readonly challengeId?: string
  /** receipt reference: PaymentIntent id, transaction hash, ... */
  readonly reference?: string
  /**
   * a re-presented credential went on from an earlier attempt: `settling` re-driven, `paid` forwarded
   * again, `failed` forwarded again after its upstream failed (onUpstreamFailure: retry)
   */
  readonly recovered?: 'settling' | 'paid' | 'failed'
}

/**
 * What the core decided for one request, as one immutable object: the adapter writes `log` into
 * the request's log line once and counts `counts`.
 */
export interface Outcome {
  readonly log: PaymentLog
  readonly counts: readonly Count[]
}

/** Moves every counter of `counts`. */
export function countAll(metrics: Pick<GatewayMetrics, CountedMetric>, counts: readonly Count[]): void {
  for (const { metric, args } of counts) (metrics[metric] as (...values: typeof args) => void)(...args)
}

/**
 * The outcome of one `handle` call while it is decided: only the core writes into it, and
 * `done` hands out a frozen copy.
 */
export class OutcomeDraft {
  private log: { -readonly [K in keyof PaymentLog]: PaymentLog[K] } = {}
  private readonly counts: Count[] = []

  count(count: Count): void {
    this.counts.push(count)
  }

  set(fields: PaymentLog): void {
    Object.assign(this.log, fields)
  }

  /** Sets the payment unless an earlier step already said what it was (a refusal stays a refusal). */
  settle(payment: PaymentOutcome): void {
    this.log.payment ??= payment
  }

  done(): Outcome {
    return Object.freeze({ log: Object.freeze({ ...this.log }), counts: Object.freeze([...this.counts]) })
  }
}

/**
 * A priced route in `mode: shadow`: served as if free, logged as payment "shadow", while the
 * metrics hold the 402 it would have sent and what it would have asked for.
 */
export function shadowOutcome(
  route: string,
  offers: ReadonlyArray<{ readonly method: string; readonly currency: string; readonly amount: string }>,
): Outcome {
  const counts: Count[] = [{ metric: 'shadowChallenge', args: [route, offers.map((o) => o.method)] }]
  for (const o of offers) counts.push({ metric: 'shadowRevenue', args: [route, o.method, o.currency, o.amount] })
  return Object.freeze({ log: Object.freeze({ payment: 'shadow' }), counts: Object.freeze(counts) })
}

/** `shadowOutcome` for a route's offers, as both doors count it. */
export function shadowOutcomeOf(route: RouteOffers): Outcome {
  const offers = route.offers.map((o) => ({
    method: o.method.name,
    currency: o.request.currency,
    amount: o.request.amount,
  }))
  return shadowOutcome(route.route.match, offers)
}
