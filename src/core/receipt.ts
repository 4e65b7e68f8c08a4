import { serialize as serializeReceipt } from '../protocol/receipt.js'
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
  // draft-httpauth-payment §Receipt Status Semantics: "Receipts are only issued on successful
  // payment responses (2xx status codes). Servers MUST NOT return a `Payment-Receipt` header on
  // error responses."
  if (status < 200 || status > 299) return []
  return [
    ['Payment-Receipt', receipt],
    ['Cache-Control', privateCacheControl(upstreamCacheControl)],
  ]
}

/**
 * Cache-Control for a response carrying a Payment-Receipt: the spec requires `private`, so
 * `public` goes and `private` is added to whatever else the upstream said.
 */
export function privateCacheControl(upstream: string | undefined): string {
  const directives = (upstream ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '' && !/^(public|private)$/i.test(d))
  return [...directives, 'private'].join(', ')
}
