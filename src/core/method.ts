import type { DecimalAmount, RouteConfig } from '../config/types.js'
import type { ProblemType } from '../protocol/problem.js'

/**
 * The `request` object of a charge challenge (draft-payment-intent-charge §Request Schema).
 * Amounts are base-unit integer strings; everything method-specific sits under `methodDetails`.
 */
export interface ChargeRequest {
  amount: string
  currency: string
  recipient?: string
  description?: string
  externalId?: string
  methodDetails?: Record<string, unknown>
}

/** What a method says when asked whether it can charge a route's price. */
export type Quote =
  | { readonly ok: true; readonly request: ChargeRequest }
  | { readonly ok: false; readonly reason: string }

/** A request completed for one challenge, for methods whose request varies per 402. */
export interface IssuedRequest {
  readonly request: ChargeRequest
  /** string fields bound into this challenge's `opaque` (a PaymentIntent id, say), handed back to `settle` */
  readonly bound?: Readonly<Record<string, string>>
}

export interface SettleInput {
  /** the authenticated, bound challenge id (HMAC verified, not expired, claimed for single use) */
  readonly challengeId: string
  readonly realm: string
  readonly route: RouteConfig
  /**
   * the echoed request: equal to what this route charges now (binding was checked); for a method
   * with an `issuer`, the fields it fills in are those it issued (the challenge HMAC vouches for them)
   */
  readonly request: ChargeRequest
  /** the fields its `issuer` bound into the challenge's opaque; empty for other methods */
  readonly bound?: Readonly<Record<string, string>>
  /** the credential's method-specific payload, unvalidated JSON */
  readonly payload: unknown
  /** when the challenge expires (unix ms) */
  readonly expiresAtMs: number
  /** the credential's `source` (payer DID), if any */
  readonly source?: string
  /**
   * Claims an extra single-use key (a transaction hash, say) in the replay store until `expiresAtMs`.
   * Resolves false when another request already holds it.
   */
  readonly claimOnce: (key: string, expiresAtMs: number) => Promise<boolean>
  /** Gives back a key claimed with `claimOnce` before settle ends (a short lock, such as one payer's in-flight sponsorship). */
  readonly release: (key: string) => Promise<void>
  /**
   * Call right before the request that may move money (a PaymentIntent create, a broadcast), with
   * what a re-drive needs to find that payment again (a tx hash). From then on a failure keeps the
   * challenge's record, so the same credential re-drives this settlement instead of paying anew.
   * Throws when another request took this settlement over: then send nothing.
   */
  readonly settling: (handle: Readonly<Record<string, string>>) => Promise<void>
  /** the handle an earlier attempt of this same credential passed to `settling`: this call re-drives it */
  readonly redrive?: Readonly<Record<string, string>>
}

export interface Settlement {
  /** receipt `reference`: a PaymentIntent id, a transaction hash, ... */
  readonly reference: string
  /** extra receipt fields defined by the method spec (e.g. externalId) */
  readonly receipt?: Readonly<Record<string, string>>
  /** the backend answered from an earlier attempt (e.g. Stripe's Idempotent-Replayed): no new money moved now */
  readonly replayed?: boolean
}

/**
 * Completes a method's quoted request for one 402. It may change only the fields named in
 * `fields`; the core checks the others against the quote, and the challenge HMAC vouches for these.
 */
export interface ChallengeIssuer {
  readonly fields: readonly (keyof ChargeRequest)[]
  /** each `issue` creates an object at a backend (a PaymentIntent): such 402s have their own rate budget */
  readonly createsBackendObject: boolean
  /** Throws `BackendUnavailable` when it cannot issue. */
  issue(quoted: ChargeRequest, route: RouteConfig): Promise<IssuedRequest>
}

/**
 * A payment method (`stripe`, later `tempo`). It prices and settles; the core does everything
 * protocol-generic (challenge ids, binding, expiry, single use, digest, receipts, proxying).
 */
export interface PaymentMethod {
  /** the wire method identifier, e.g. "stripe" */
  readonly name: string
  /** Builds the charge `request` for a price in the gateway currency, or explains why it cannot charge it. */
  quote(amount: DecimalAmount, route: RouteConfig): Quote
  /**
   * Verifies the payload and moves the money. Throws `PaymentRefused` when the payment was refused
   * (a 402 with a fresh challenge), `BackendUnavailable` when the payment backend could not be reached
   * (503, nothing forwarded). A refusal means no money moved: the core forgets the challenge's record.
   * A backend failure after `settling` keeps it, for the same credential to re-drive.
   */
  settle(input: SettleInput): Promise<Settlement>
  /** the longest one `settle` may take (its backend timeouts): how long a settlement is left to its process */
  readonly settleTimeoutMs?: number
  /** For methods whose request is completed per challenge (a Stripe deposit address). */
  readonly issuer?: ChallengeIssuer
  /** Readiness probe of the backend, where one is cheap; absent = always ready. */
  ping?(): Promise<void>
  close?(): Promise<void>
}

/** The payer's payment was refused; answered with 402, this problem type and a fresh challenge. */
export class PaymentRefused extends Error {
  constructor(
    readonly problem: Extract<
      ProblemType,
      | 'verification-failed'
      | 'payment-action-required'
      | 'invalid-payload'
      | 'payment-insufficient'
      | 'invalid-challenge'
      | 'payment-expired'
    >,
    readonly detail: string,
  ) {
    super(detail)
    this.name = 'PaymentRefused'
  }
}

/** The payment backend (Stripe, an RPC node) did not answer usefully; answered with 503 and Retry-After. */
export class BackendUnavailable extends Error {
  constructor(
    readonly backend: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(detail, options)
    this.name = 'BackendUnavailable'
  }
}
