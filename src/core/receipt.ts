import { serialize as serializeReceipt } from '../protocol/receipt.js'
import { privateCacheControl } from '../proxy/headers.js'
import type { Paid } from './ledger.js'

/** The `Payment-Receipt` header value of a settled payment. */
export function receiptFor(paid: Paid): string {
  return serializeReceipt({
    status: 'success',
    method: paid.method,
    timestamp: paid.settledAt,
    reference: paid.settlement.reference,
    ...paid.settlement.receipt,
  })
}

/**
 * The headers a paid 2xx answer gets: the receipt, and `Cache-Control: private` merged into the
 * upstream's, since a response bought by one payer must never be served from a shared cache.
 * A non-2xx answer gets neither (nothing was delivered to vouch for). Replaces any Cache-Control.
 */
export function receiptHeaders(
  status: number,
  receipt: string,
  upstreamCacheControl: string | undefined,
): ReadonlyArray<readonly [string, string]> {
  if (status < 200 || status > 299) return []
  return [
    ['Payment-Receipt', receipt],
    ['Cache-Control', privateCacheControl(upstreamCacheControl)],
  ]
}
