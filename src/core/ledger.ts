import type { Logger } from '../log/logger.js'
import type { Settlement } from './method.js'
import type { Ledger } from '../store/ports.js'
import type { LedgerEntry, PaidOutcome } from '../store/types.js'
import type { Count } from './outcome.js'

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
    ...served,
  }
}

/** Whether the payer paid and did not get what it paid for through no doing of its own (metric, error log). */
export function paidButNotServed(outcome: PaidOutcome): boolean {
  return outcome !== 'served' && outcome !== 'client-gone'
}

/**
 * Records what a settled payment bought. A payment that was not served is an error line for the
 * operator (refund or serve by hand). A ledger that cannot be written is logged with the whole
 * entry: the claim still holds, so the challenge cannot be paid twice, and that line is the record.
 */
export async function commitPaid(
  ledger: Ledger,
  logger: Logger,
  paid: Paid,
  result: UpstreamResult,
): Promise<Committed> {
  const entry = ledgerEntry(paid, result)
  const counts: Count[] = []
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
  return { entry, counts }
}
