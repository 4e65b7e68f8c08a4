import type { Address, Hex } from '../../config/types.js'
import * as AttributionMemo from './attribution-memo.js'

/** A TIP-20 transfer, as a call in a transaction or as logs in a receipt. */
export interface Transfer {
  readonly token: Address
  readonly to: Address
  readonly amount: bigint
  readonly memo?: Hex
  /** known for receipt logs; a call's sender is the transaction's */
  readonly from?: Address
}

/** A payment effect a charge requires (draft-tempo-charge §Split Payments, Client Behavior). */
export interface RequiredTransfer {
  readonly to: Address
  readonly amount: bigint
  /**
   * 'bound': the primary transfer must carry the attribution memo of this challenge;
   * a hex memo: exactly that memo; undefined: any memo or none.
   */
  readonly memo?: 'bound' | Hex
}

export interface Binding {
  readonly realm: string
  readonly challengeId: string
}

export type Match =
  | { readonly ok: true }
  | { readonly ok: false; readonly insufficient: boolean; readonly detail: string }

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

function satisfies(transfer: Transfer, required: RequiredTransfer, binding: Binding): boolean {
  if (!same(transfer.to, required.to) || transfer.amount !== required.amount) return false
  if (required.memo === 'bound') return AttributionMemo.isBoundTo(transfer.memo, binding)
  if (required.memo !== undefined) return transfer.memo !== undefined && same(transfer.memo, required.memo)
  return true
}

/**
 * Whether `transfers` (already restricted to the charged token and payer) contain every required
 * transfer, each matched to a different one, in any order. With `exact`, nothing else may be
 * there either (pull: the gateway broadcasts exactly what it checked).
 */
export function matchTransfers(
  transfers: readonly Transfer[],
  required: readonly RequiredTransfer[],
  binding: Binding,
  exact: boolean,
): Match {
  if (exact && transfers.length !== required.length) {
    return {
      ok: false,
      insufficient: false,
      detail: `The transaction must make exactly ${required.length} transfer(s) on the charged token; it makes ${transfers.length}.`,
    }
  }
  // Backtracking over at most 11 required transfers: greedy matching can pick the wrong one
  // when a split pays the primary recipient too.
  const used = new Array<boolean>(transfers.length).fill(false)
  const assign = (i: number): boolean => {
    if (i === required.length) return true
    for (let j = 0; j < transfers.length; j++) {
      if (used[j] || !satisfies(transfers[j]!, required[i]!, binding)) continue
      used[j] = true
      if (assign(i + 1)) return true
      used[j] = false
    }
    return false
  }
  if (assign(0)) return { ok: true }
  return explainMismatch(transfers, required, binding)
}

function explainMismatch(
  transfers: readonly Transfer[],
  required: readonly RequiredTransfer[],
  binding: Binding,
): Match {
  for (const want of required) {
    if (transfers.some((t) => satisfies(t, want, binding))) continue
    const toRecipient = transfers.filter((t) => same(t.to, want.to))
    const what = `${want.amount} base units to ${want.to}`
    if (toRecipient.length === 0)
      return { ok: false, insufficient: false, detail: `No transfer of ${what} on the charged token.` }
    if (toRecipient.every((t) => t.amount < want.amount)) {
      return {
        ok: false,
        insufficient: true,
        detail: `The transfer to ${want.to} pays ${toRecipient.map((t) => t.amount).join(', ')} base units; ${want.amount} are required.`,
      }
    }
    if (want.memo === 'bound' && toRecipient.some((t) => t.amount === want.amount)) {
      return {
        ok: false,
        insufficient: false,
        detail: `The transfer of ${what} does not carry this challenge's attribution memo (transferWithMemo with tag 0xef1ed712, this realm and this challenge id).`,
      }
    }
    if (want.memo !== undefined && want.memo !== 'bound')
      return { ok: false, insufficient: false, detail: `No transfer of ${what} with memo ${want.memo}.` }
    return { ok: false, insufficient: false, detail: `No transfer of exactly ${what}.` }
  }
  return {
    ok: false,
    insufficient: false,
    detail: 'The transfers pay the required recipients only if one transfer is counted twice.',
  }
}
