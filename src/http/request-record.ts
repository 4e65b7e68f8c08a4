import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Outcome, PaymentLog } from '../core/outcome.js'
import type { Logger } from '../log/logger.js'
import type { GatewayMetrics } from '../metrics/metrics.js'
import { countAll } from '../core/outcome.js'

/**
 * What one request did, written as one log line (and counted) when the response is done: the
 * transport's fields, and the payment core's outcome, written once. Only fields safe to log:
 * never a credential, SPT or Authorization value.
 */
export interface RequestRecord {
  /** the client, as trustedProxies lets the gateway believe */
  readonly clientIp: string
  /** the matched route's `match` */
  route?: string
  /** what the payment core decided (set once, by `recordOutcome`) */
  payment?: PaymentLog
  upstreamStatus?: number
  /** a grant key: issued / not-issued on a paid route; accepted or why refused on an access route (never the key) */
  grant?: string
}

/** Writes the core's outcome into the request's log line and counts its metrics, once. */
export function recordOutcome(record: RequestRecord, outcome: Outcome, metrics: GatewayMetrics): void {
  record.payment = outcome.log
  countAll(metrics, outcome.counts)
}

/** Logs and counts the request once its response has gone (or the client left). */
export function finishRecord(
  record: RequestRecord,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  path: string,
  startedAt: number,
  logger: Logger,
  metrics: GatewayMetrics,
): void {
  outgoing.once('close', () => {
    const status = outgoing.headersSent ? outgoing.statusCode : 0
    metrics.requestFinished(record.route ?? 'none', status)
    const { payment, ...transport } = record
    logger.info('request', {
      method: incoming.method,
      // the path only: a query string may carry an API key of the upstream's
      path,
      status,
      latencyMs: Math.round((performance.now() - startedAt) * 10) / 10,
      ...(outgoing.writableFinished ? {} : { aborted: true }),
      ...transport,
      ...payment,
    })
  })
}
