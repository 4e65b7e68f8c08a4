export interface LedgerEntry {
  readonly challengeId: string
  readonly route: string
  readonly method: string
  /** base units, as in the challenge request */
  readonly amount: string
  readonly currency: string
  readonly reference: string
  /** ISO 8601 settlement time */
  readonly settledAt: string
  /** upstream HTTP status, or 0 when no answer came from the upstream after payment */
  readonly upstreamStatus: number
  /** the settlement record's state after this entry (absent in entries written before it was recorded) */
  readonly state?: LedgerState
  /** what the payer got (absent in entries written before it was recorded) */
  readonly outcome?: PaidOutcome
  /** response body bytes passed to the payer, once the response was over */
  readonly bytesSent?: number
  /** the upstream's Content-Length, when it declared one */
  readonly bytesExpected?: number
}

/**
 * - `served`: the upstream answered 2xx and the body was delivered
 * - `failed`: the upstream failed (non-2xx, unreachable, timeout, cut short)
 * - `paid`: settled, not served yet (the payer left): the same credential is forwarded when it comes back
 */
export type LedgerState = 'paid' | 'served' | 'failed'

/**
 * - `served`: a 2xx, body delivered in full, with a receipt
 * - `upstream-error`: the upstream answered non-2xx; relayed without a receipt
 * - `upstream-challenge`: the upstream answered 402 or with a Payment challenge; the payer got 502
 * - `upstream-unreachable` / `upstream-timeout`: no answer; the payer got 502 / 504
 * - `cut`: a 2xx whose body the upstream cut short (bytesSent < bytesExpected, or no chunked end)
 * - `client-gone`: the payer left before the response was over
 */
export type PaidOutcome =
  | 'served'
  | 'upstream-error'
  | 'upstream-challenge'
  | 'upstream-unreachable'
  | 'upstream-timeout'
  | 'cut'
  | 'client-gone'

export class StoreUnavailable extends Error {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(detail, options)
    this.name = 'StoreUnavailable'
  }
}
