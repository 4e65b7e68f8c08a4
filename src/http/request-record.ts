import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '../log/logger.js'
import type { GatewayMetrics } from '../metrics/metrics.js'

/** What happened to a priced request's payment, for the request log. */
export type PaymentOutcome = 'challenged' | 'paid' | 'refused' | 'unavailable' | 'rate-limited' | 'shadow'

/**
 * What one request did, filled in as it goes and written as one log line (and counted) when the
 * response is done. Only fields safe to log: never a credential, SPT or Authorization value.
 */
export interface RequestRecord {
  /** the client, as trustedProxies lets the gateway believe */
  readonly clientIp: string
  /** the matched route's `match` */
  route?: string
  payment?: PaymentOutcome
  /** the problem type slug of a refusal */
  problem?: string
  /** the payment method used or refused */
  paymentMethod?: string
  challengeId?: string
  /** receipt reference: PaymentIntent id, transaction hash, ... */
  reference?: string
  upstreamStatus?: number
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
    logger.info('request', {
      method: incoming.method,
      // the path only: a query string may carry an API key of the upstream's
      path,
      status,
      latencyMs: Math.round((performance.now() - startedAt) * 10) / 10,
      ...(outgoing.writableFinished ? {} : { aborted: true }),
      ...record,
    })
  })
}
