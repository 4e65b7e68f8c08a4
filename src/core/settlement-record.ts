/*
 * One record per challenge id: the settlement state machine (issue 12). These are the rules as
 * pure functions over a record; the in-memory store applies them directly and the Redis store runs
 * the same rules as Lua scripts (store/redis-settlements.ts), one atomic step per transition.
 *
 *   claimed(attempt, fingerprint) → settling(handle) → paid → served(status) | failed(status)
 *
 * A lease says a live process works on the record; a process that dies leaves a lease that runs
 * out. Every write after `begin` names its attempt and is refused once another attempt took over.
 */

export type SettlementState = 'claimed' | 'settling' | 'paid' | 'served' | 'failed'

export interface SettlementRecord {
  readonly state: SettlementState
  /** SHA-256 of the credential: the same credential is the same attempt, never a replay */
  readonly fingerprint: string
  /** the request working on it now (or last) */
  readonly attempt: string
  /** unix ms until which that attempt owns the record; a record whose lease ended may be taken over */
  readonly leaseUntil: number
  readonly method: string
  /** unix ms of the first claim */
  readonly claimedAt: number
  /** unix ms after which the record is forgotten */
  readonly keepUntil: number
  /** the method's settlement handle (a Stripe idempotency key, a tx hash): what a re-drive repeats */
  readonly handle?: Readonly<Record<string, string>>
  /** the settled payment, serialized by the core, once `paid` */
  readonly paid?: string
  readonly upstreamStatus?: number
  /** how many times a `failed` record was forwarded again */
  readonly retries?: number
}

/** A route's `onUpstreamFailure: retry`: a `failed` record is forwarded again, this often, for this long after failing. */
export interface RetryPolicy {
  readonly windowMs: number
  readonly maxRetries: number
}

export interface BeginRequest {
  readonly id: string
  readonly fingerprint: string
  readonly attempt: string
  readonly method: string
  /** unix ms */
  readonly now: number
  readonly leaseUntil: number
  /** the lease when this presentation goes on to forward (a `paid` record, a retry): the upstream's time */
  readonly forwardLeaseUntil: number
  readonly keepUntil: number
  /** forward a `failed` record again, within these bounds; absent: a failed record is used */
  readonly retry?: RetryPolicy
  /** when the challenge was issued (unix ms): refused when before the store's epoch */
  readonly issuedAt: number
  /** the challenge is past its expiry: only an existing record of this credential may go on */
  readonly expired: boolean
}

/** What a presentation may do, as `begin` decided it (the record is now this attempt's where it goes on). */
export type BeginResult =
  /** settle it from the start (a new record, or a `claimed` one nothing was sent for yet) */
  | { readonly kind: 'claimed' }
  /** an earlier attempt of this credential started settling: repeat it with its handle */
  | { readonly kind: 'redrive'; readonly handle: Readonly<Record<string, string>> }
  /** settled by an earlier attempt of this credential and not served: forward without paying again */
  | { readonly kind: 'paid'; readonly paid: string }
  /** its upstream failed, and the route retries: forward again without paying (`retry` is 1 for the first) */
  | { readonly kind: 'retry'; readonly paid: string; readonly retry: number }
  /** another request works on this credential right now */
  | { readonly kind: 'busy'; readonly state: SettlementState; readonly retryAfterMs: number }
  /** this credential was served (or its upstream failed) already */
  | { readonly kind: 'used'; readonly state: SettlementState }
  /** another credential holds this challenge */
  | { readonly kind: 'taken'; readonly state: SettlementState }
  /** no record, and the challenge has expired */
  | { readonly kind: 'expired' }
  /** no record, and the challenge predates the store's epoch: the store lost what it knew */
  | { readonly kind: 'stale'; readonly epoch: number }

export interface UpdateRequest {
  readonly id: string
  readonly attempt: string
  /** recreates a record the store lost mid-flight (a wipe), so the payment it settled is still known */
  readonly fingerprint: string
  readonly method: string
  readonly now: number
  readonly keepUntil: number
  /** the new state; absent: the state stays (only the lease and fields change) */
  readonly state?: SettlementState
  /** `now` gives the record up without dropping it (a backend failed mid-settlement: retry at once) */
  readonly leaseUntil: number
  readonly handle?: Readonly<Record<string, string>>
  readonly paid?: string
  readonly upstreamStatus?: number
}

export const FINAL_STATES: readonly SettlementState[] = ['served', 'failed']

/** `begin` on the current record; `next` is what to store (undefined: leave it as it is). */
export function begin(
  current: SettlementRecord | undefined,
  epoch: number,
  request: BeginRequest,
): { readonly result: BeginResult; readonly next?: SettlementRecord } {
  const { now } = request
  const own = (record: SettlementRecord): SettlementRecord => ({
    ...record,
    attempt: request.attempt,
    leaseUntil: request.leaseUntil,
  })
  const fresh = (): { result: BeginResult; next?: SettlementRecord } => {
    if (request.expired) return { result: { kind: 'expired' } }
    if (request.issuedAt < epoch) return { result: { kind: 'stale', epoch } }
    return {
      result: { kind: 'claimed' },
      next: {
        state: 'claimed',
        fingerprint: request.fingerprint,
        attempt: request.attempt,
        leaseUntil: request.leaseUntil,
        method: request.method,
        claimedAt: now,
        keepUntil: request.keepUntil,
      },
    }
  }
  if (!current) return fresh()
  if (current.fingerprint !== request.fingerprint) {
    // Nothing was sent to a backend for a `claimed` record, so one whose process died is free again.
    if (current.state === 'claimed' && current.leaseUntil <= now) return fresh()
    return { result: { kind: 'taken', state: current.state } }
  }
  if (current.state === 'failed' && request.retry) {
    const retries = current.retries ?? 0
    if (retries < request.retry.maxRetries && now < current.leaseUntil + request.retry.windowMs) {
      const next = { ...current, state: 'paid' as const, attempt: request.attempt, retries: retries + 1 }
      return {
        result: { kind: 'retry', paid: current.paid ?? '', retry: retries + 1 },
        next: { ...next, leaseUntil: request.forwardLeaseUntil },
      }
    }
  }
  if (FINAL_STATES.includes(current.state)) return { result: { kind: 'used', state: current.state } }
  // A claim that timed out on our side but ran: the retry is the same attempt (nothing sent yet).
  if (current.state === 'claimed') return { result: { kind: 'claimed' }, next: own(current) }
  if (current.leaseUntil > now)
    return { result: { kind: 'busy', state: current.state, retryAfterMs: current.leaseUntil - now } }
  if (current.state === 'settling')
    return { result: { kind: 'redrive', handle: current.handle ?? {} }, next: own(current) }
  return {
    result: { kind: 'paid', paid: current.paid ?? '' },
    next: { ...own(current), leaseUntil: request.forwardLeaseUntil },
  }
}

/** A transition by the attempt that owns the record; `ok: false` when another attempt took it over. */
export function update(
  current: SettlementRecord | undefined,
  request: UpdateRequest,
): { readonly ok: boolean; readonly next?: SettlementRecord } {
  if (current && current.attempt !== request.attempt) return { ok: false }
  const base: SettlementRecord = current ?? {
    state: 'claimed',
    fingerprint: request.fingerprint,
    attempt: request.attempt,
    leaseUntil: request.leaseUntil,
    method: request.method,
    claimedAt: request.now,
    keepUntil: request.keepUntil,
  }
  return {
    ok: true,
    next: {
      ...base,
      ...(request.state !== undefined && { state: request.state }),
      leaseUntil: request.leaseUntil,
      ...(request.handle !== undefined && { handle: request.handle }),
      ...(request.paid !== undefined && { paid: request.paid }),
      ...(request.upstreamStatus !== undefined && { upstreamStatus: request.upstreamStatus }),
    },
  }
}

/** Whether the sweeper should report a record: not final, and its lease ended before `cutoff`. */
export function unfinished(record: SettlementRecord, cutoff: number): boolean {
  return !FINAL_STATES.includes(record.state) && record.leaseUntil <= cutoff
}
