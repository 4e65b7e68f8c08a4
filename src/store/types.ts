/**
 * The replay store: single use of challenge ids (and of method keys such as transaction hashes),
 * and the ledger of settled payments. Redis across replicas, or memory for one process.
 * Every method rejects with `StoreUnavailable` when the backing store cannot be reached.
 */
export interface ReplayStore {
  /** a human-readable description for logs, e.g. "redis redis://127.0.0.1:6379" */
  readonly description: string
  /** Atomically claims `key` until `expiresAtMs` (epoch ms). True if this call got it. */
  claim(key: string, expiresAtMs: number): Promise<boolean>
  /** Gives a claim back (settlement failed and moved no money). */
  release(key: string): Promise<void>
  /** Appends a settled payment to the ledger. */
  record(entry: LedgerEntry): Promise<void>
  /** Reads the ledger, oldest first (operators reconcile from it; tests assert on it). */
  ledger(limit?: number): Promise<LedgerEntry[]>
  /**
   * Counts one event under `key` in the current fixed window of `windowMs` and returns the count
   * so far in that window (1 for the first). Shared by every replica on the same Redis.
   */
  countHit(key: string, windowMs: number): Promise<number>
  /**
   * Keeps `job` under `id` in `queue` until `removePending` (writing an id again replaces its job):
   * work that must eventually be done even across a restart, such as recording a payment in Stripe.
   */
  addPending(queue: string, id: string, job: string): Promise<void>
  /** Jobs still pending in `queue` (at most `limit`), in no particular order. */
  listPending(queue: string, limit?: number): Promise<Array<{ id: string; job: string }>>
  removePending(queue: string, id: string): Promise<void>
  /** Resolves when the store answers. */
  ping(): Promise<void>
  close(): Promise<void>
}

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
  /** what the payer got (absent in entries written before it was recorded) */
  readonly outcome?: PaidOutcome
  /** response body bytes passed to the payer, once the response was over */
  readonly bytesSent?: number
  /** the upstream's Content-Length, when it declared one */
  readonly bytesExpected?: number
}

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
