import type { Committed, UpstreamResult } from './ledger.js'
import type { Outcome } from './outcome.js'
import type { RouteOffers } from './price-table.js'
import type { Validator } from './validation.js'

/** A request to a priced route, as plain data: what any adapter (node:http, Hono) can hand over. */
export interface PaymentInput {
  /** the HTTP method */
  readonly method: string
  /** the canonical path (no query) */
  readonly path: string
  /** the matched route and what it offers */
  readonly route: RouteOffers
  /**
   * request headers by lower-case name; a list keeps repeated fields apart (`Authorization` must
   * be one list per line, so several Payment credentials are seen as several)
   */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>
  /** the whole request body, or undefined when the request has none */
  readonly body: Uint8Array | undefined
  /** the client, as trustedProxies lets the gateway believe (rate budgets are per client) */
  readonly clientIp: string
  /** asks the upstream's validation path about this request, for routes with `validate` (the adapter's call) */
  readonly validate?: Validator
}

/** Answer without forwarding: a problem (402 with challenges, 400, 429, 503, 500, ...). */
/** An answer the core gives itself: an RFC 9457 problem, with its headers. */
export interface ProblemResponse {
  readonly status: number
  /** header name → value; a list is written one line per value (each challenge on its own `WWW-Authenticate` line) */
  readonly headers: Readonly<Record<string, string | readonly string[]>>
  /** the problem, serialized */
  readonly body: string
}

export interface RespondDecision extends ProblemResponse {
  readonly kind: 'respond'
  readonly outcome: Outcome
}

/** The payment settled: forward the request, then `commit` what the upstream did. */
export interface ForwardDecision {
  readonly kind: 'forward'
  /** the `Authorization` left once the Payment credential is removed; undefined when nothing is left */
  readonly authorization: string | undefined
  /** the `Payment-Receipt` value, for a 2xx answer only (with `Cache-Control: private`) */
  readonly receipt: string
  readonly outcome: Outcome
  /**
   * Writes the ledger entry (and, if the payer was not served, the error log line); resolves when
   * it is written, with the counters it moved. Call it once, when the response is over.
   */
  commit(result: UpstreamResult): Promise<Committed>
}

export type Decision = RespondDecision | ForwardDecision
