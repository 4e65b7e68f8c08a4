import { createHash, randomUUID } from 'node:crypto'
import type { Credential } from '../protocol/credential.js'
import { canonicalize } from '../protocol/jcs.js'
import type { Settlements } from '../store/ports.js'
import type { BeginResult, RetryPolicy, SettlementState } from './settlement-record.js'

/** Another request took this settlement over (our lease ran out): this one must not go on. */
export class SettlementTakenOver extends Error {
  constructor() {
    super('another request took this settlement over')
    this.name = 'SettlementTakenOver'
  }
}

export interface AttemptInit {
  readonly id: string
  readonly fingerprint: string
  readonly method: string
  /** how long settling may take this method at most: the lease while it settles */
  readonly settleLeaseMs: number
  /** how long forwarding may take (the upstream timeout): the lease while it forwards */
  readonly forwardLeaseMs: number
  /** unix ms after which the record is forgotten */
  readonly keepUntil: number
}

/**
 * One presentation's hold on a challenge's settlement record: every write names this attempt, so
 * a write after another request took the record over is refused instead of applied.
 */
export class SettlementAttempt {
  readonly attempt = randomUUID()
  /** a call that may move money was sent (or an earlier attempt's was): failures keep the record */
  private sent = false
  /** the settled payment, as the record keeps it: written with `paid`, and again with the end state */
  private payment: string | undefined

  constructor(
    private readonly settlements: Settlements,
    private readonly now: () => number,
    readonly init: AttemptInit,
  ) {}

  get moneyMayHaveMoved(): boolean {
    return this.sent
  }

  async begin(challenge: {
    readonly issuedAt: number
    readonly expired: boolean
    readonly retry?: RetryPolicy
  }): Promise<BeginResult> {
    const now = this.now()
    const result = await this.settlements.begin({
      ...this.base(now),
      fingerprint: this.init.fingerprint,
      leaseUntil: now + this.init.settleLeaseMs,
      forwardLeaseUntil: now + this.init.forwardLeaseMs,
      issuedAt: challenge.issuedAt,
      expired: challenge.expired,
      ...(challenge.retry && { retry: challenge.retry }),
    })
    if (result.kind === 'redrive') this.sent = true
    if (result.kind === 'paid' || result.kind === 'retry') this.payment = result.paid
    return result
  }

  /** Called by the method right before the call that may move money; throws SettlementTakenOver. */
  async settling(handle: Readonly<Record<string, string>>): Promise<void> {
    // From here a failure may hide a payment: the record stays, whatever the store answers.
    this.sent = true
    if (!(await this.write('settling', this.init.settleLeaseMs, { handle }))) throw new SettlementTakenOver()
  }

  /** Settled: `paid` holds while this attempt forwards. False when another request took it over. */
  paid(paid: string): Promise<boolean> {
    this.payment = paid
    return this.write('paid', this.init.forwardLeaseMs, { paid })
  }

  /**
   * Forwarded: `served`/`failed` end the record; `paid` gives it up for the payer to come back. The
   * payment goes along: a `paid` write that never landed (a store stall) must not leave a record
   * that cannot be forwarded again.
   */
  finish(state: Extract<SettlementState, 'paid' | 'served' | 'failed'>, upstreamStatus: number): Promise<boolean> {
    return this.write(state, 0, { upstreamStatus, ...(this.payment !== undefined && { paid: this.payment }) })
  }

  /** A backend failed after money may have moved: keep the record, and let a retry re-drive it at once. */
  suspend(): Promise<boolean> {
    return this.write(undefined, 0, {})
  }

  /** Nothing was paid: forget the record, so the payer may try again. */
  drop(): Promise<void> {
    return this.settlements.drop(this.init.id, this.attempt)
  }

  private base(now: number) {
    return { id: this.init.id, attempt: this.attempt, method: this.init.method, now, keepUntil: this.init.keepUntil }
  }

  private write(
    state: SettlementState | undefined,
    leaseMs: number,
    fields: { handle?: Readonly<Record<string, string>>; paid?: string; upstreamStatus?: number },
  ): Promise<boolean> {
    const now = this.now()
    return this.settlements.update({
      ...this.base(now),
      fingerprint: this.init.fingerprint,
      ...(state !== undefined && { state }),
      leaseUntil: now + leaseMs,
      ...fields,
    })
  }
}

/** SHA-256 of the credential in canonical JSON: the same credential, however re-encoded, is the same attempt. */
export function credentialFingerprint(credential: Credential): string {
  const { challenge, payload, source } = credential
  return createHash('sha256')
    .update(canonicalize(source === undefined ? { challenge, payload } : { challenge, payload, source }))
    .digest('base64url')
}
