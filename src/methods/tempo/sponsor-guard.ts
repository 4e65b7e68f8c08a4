/**
 * What stops a payer from bleeding the fee sponsor (issue 11 item 6): a transaction that would
 * revert or run out of gas still costs the sponsor its fee, so nothing is co-signed unless the
 * node's simulation succeeds within the signed gas limit, and the sponsor's exposure is bounded:
 * one sponsored transaction in flight per payer (a store lock, shared by replicas) and at most
 * `maxInFlight` per gateway process.
 */
import type { Address } from '../../config/types.js'
import { BackendUnavailable, PaymentRefused } from '../../core/method.js'

export const refuseSponsorship = (detail: string) =>
  new PaymentRefused('verification-failed', `The gateway does not sponsor this transaction: ${detail}`)

/** The store key of a payer's sponsorship lock. */
export const payerLockKey = (payer: Address) => `sponsor:payer:${payer.toLowerCase()}`

/** The signed gas limit must cover the node's estimate, or the transaction runs out of gas on chain. */
export function checkGasCoversEstimate(gasLimit: bigint, estimate: bigint): void {
  if (gasLimit < estimate)
    throw refuseSponsorship(
      `its gas limit ${gasLimit} is below the ${estimate} the node estimates it needs, so it would run out of gas.`,
    )
}

/** A node refusal of the simulation means the transaction would revert: say so, with the node's reason. */
export function simulationRefusal(error: unknown): unknown {
  if (!(error instanceof PaymentRefused)) return error
  return refuseSponsorship(`the node's simulation says it would revert (${error.detail})`)
}

/** Per-process count of sponsored transactions between co-signing and the node's answer. */
export class InFlightBudget {
  private inFlight = 0
  constructor(readonly max: number) {}

  /** Takes a slot, or throws BackendUnavailable (503, Retry-After: the same credential may be retried). */
  acquire(): () => void {
    if (this.inFlight >= this.max)
      throw new BackendUnavailable('tempo-fee-payer', `The fee sponsor already has ${this.max} transactions in flight.`)
    this.inFlight++
    let released = false
    return () => {
      if (released) return
      released = true
      this.inFlight--
    }
  }
}
