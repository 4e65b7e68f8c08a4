import type { Delivery, ForwardOutcome } from '../proxy/upstream.js'
import type { UpstreamResult } from '../core/ledger.js'

export type PaidResult = Omit<UpstreamResult, 'failure'>

// `framing` cannot happen after payment (a paid body is read and re-sent with a Content-Length).
const FAILURES = {
  connect: 'upstream-unreachable',
  timeout: 'upstream-timeout',
  'payment-challenge': 'upstream-challenge',
  framing: 'upstream-unreachable',
} as const

/** What a settled payment bought, from the forward's outcome and, when relayed, how the response ended. */
export function paidResult(forwarded: ForwardOutcome, delivery: Delivery | undefined): PaidResult {
  if (!forwarded.ok) return { outcome: FAILURES[forwarded.failure], upstreamStatus: forwarded.status ?? 0 }
  const { status } = forwarded
  const bytes = delivery
    ? {
        bytesSent: delivery.bytesSent,
        ...(delivery.bytesExpected === undefined ? {} : { bytesExpected: delivery.bytesExpected }),
      }
    : {}
  if (delivery?.end === 'client-gone') return { outcome: 'client-gone', upstreamStatus: status, ...bytes }
  if (status < 200 || status > 299) return { outcome: 'upstream-error', upstreamStatus: status, ...bytes }
  return { outcome: delivery?.end === 'cut' ? 'cut' : 'served', upstreamStatus: status, ...bytes }
}
