import type { Logger } from '../log/logger.js'
import type { Settlement } from './method.js'
import type { Ledger } from '../store/ports.js'
import type { LedgerEntry, LedgerState, PaidOutcome } from '../store/types.js'
import type { Count } from './outcome.js'
import type { SettlementAttempt } from './settlement.js'

/** What the upstream did with a paid request, as the adapter saw it. */
export interface UpstreamResult {
  readonly outcome: PaidOutcome
  /** 0 when no answer came */
  readonly upstreamStatus: number
  readonly bytesSent?: number
  readonly bytesExpected?: number
  /** why no answer came (`connect`, `timeout`, ...), for the operator's log line */
  readonly failure?: string
}

/** What a committed payment wrote, and the counters the commit moved. */
export interface Committed {
  readonly entry: LedgerEntry
  readonly counts: readonly Count[]
}

/** A settled payment, before the upstream answers. */
export interface Paid {
  readonly challengeId: string
  readonly route: string
  readonly method: string
  readonly amount: string
  readonly currency: string
  readonly settlement: Settlement
  /** ISO 8601 */
  readonly settledAt: string
}

/**
 * The record's state once the upstream answered. `failed` is what a retry may forward again: a 5xx,
 * no answer in time, no connection, or the upstream asking for payment itself. A 4xx is the
 * upstream's answer, and a body cut after its headers was served; a payer who left may come back.
 */
export function stateAfter(result: Pick<UpstreamResult, 'outcome' | 'upstreamStatus'>): LedgerState {
  switch (result.outcome) {
    case 'client-gone':
      return 'paid'
    case 'served':
    case 'cut':
      return 'served'
    case 'upstream-error':
      return result.upstreamStatus >= 500 ? 'failed' : 'served'
    default:
      return 'failed'
  }
}

export function ledgerEntry(paid: Paid, result: UpstreamResult): LedgerEntry {
  const { failure: _failure, ...served } = result
  return {
    challengeId: paid.challengeId,
    route: paid.route,
    method: paid.method,
    amount: paid.amount,
    currency: paid.currency,
    reference: paid.settlement.reference,
    settledAt: paid.settledAt,
    state: stateAfter(result),
    ...served,
  }
}

/** A `Paid` as the settlement record keeps it (JSON); undefined when it is not one. */
export function parsePaid(text: string): Paid | undefined {
  try {
    const value = JSON.parse(text) as Paid
    return typeof value?.challengeId === 'string' && typeof value.settlement?.reference === 'string' ? value : undefined
  } catch {
    return undefined
  }
}

/** Whether the payer paid and did not get what it paid for through no doing of its own (metric, error log). */
export function paidButNotServed(outcome: PaidOutcome): boolean {
  return outcome !== 'served' && outcome !== 'client-gone'
}

/**
 * Records what a settled payment bought: the settlement record's end state, then the ledger entry.
 * A payment that was not served is an error line for the operator (refund or serve by hand); a
 * payer who left gets the record back to `paid`, for the same credential to be served later. A
 * store that cannot be written is logged with the whole entry: that line is then the record.
 */
export async function commitPaid(
  ledger: Ledger,
  attempt: SettlementAttempt,
  logger: Logger,
  paid: Paid,
  result: UpstreamResult,
): Promise<Committed> {
  const entry = ledgerEntry(paid, result)
  const counts: Count[] = []
  // The record's end and the ledger entry are written side by side: the answer is already out.
  const finishing = attempt.finish(entry.state ?? 'failed', result.upstreamStatus).catch((error: unknown) => {
    counts.push({ metric: 'backendError', args: ['store'] })
    logger.error('settlement record could not be finished; its lease runs out instead', {
      challengeId: paid.challengeId,
      reference: paid.settlement.reference,
      error,
    })
  })
  if (paidButNotServed(result.outcome)) {
    counts.push({ metric: 'paidButUpstreamFailed', args: [paid.route] })
    const { failure, ...served } = result
    logger.error('payment settled but the upstream did not serve it; refund or serve manually', {
      route: paid.route,
      challengeId: paid.challengeId,
      reference: paid.settlement.reference,
      ...served,
      ...(failure === undefined ? {} : { failure }),
    })
  }
  try {
    await ledger.record(entry)
  } catch (error) {
    counts.push({ metric: 'backendError', args: ['store'] })
    logger.error('settled payment could not be written to the ledger', { ...entry, error })
  }
  await finishing
  return { entry, counts }
}
