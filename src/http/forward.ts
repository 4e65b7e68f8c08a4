import type { IncomingMessage, ServerResponse } from 'node:http'
import type { GatewayContext } from './context.js'
import { sendProblem } from './respond.js'
import { receiptHeaders } from '../core/receipt.js'
import { extract } from '../protocol/credential.js'
import { gatewayProblem } from '../protocol/problem.js'
import type { ForwardOutcome, ResponseHold } from '../proxy/upstream.js'
import type { RequestRecord } from './request-record.js'

export interface ForwardParts {
  readonly pathAndQuery: string
  readonly body?: Buffer
  readonly authorization?: string
  /** a paid request's Payment-Receipt */
  readonly receipt?: string
  readonly trackDelivery?: boolean
  /** lower-cased request header names not to forward (an access route's key header) */
  readonly dropRequestHeaders?: readonly string[]
  /** a paid route with a grant: its 2xx waits for the key */
  readonly hold?: ResponseHold
}

/** A transfer coding the gateway cannot re-frame (`gzip, chunked`): RFC 9112 §6.1 says 501. */
export const UNSUPPORTED_FRAMING = gatewayProblem(
  501,
  'unsupported-transfer-coding',
  'Not Implemented',
  'The gateway accepts request bodies framed by Content-Length or chunked only.',
)

const FAILURE_PROBLEMS = {
  timeout: gatewayProblem(504, 'upstream-timeout', 'Gateway Timeout', 'The upstream did not answer in time.'),
  connect: gatewayProblem(502, 'upstream-unreachable', 'Bad Gateway', 'The upstream could not be reached.'),
  'payment-challenge': gatewayProblem(
    502,
    'upstream-payment-challenge',
    'Bad Gateway',
    'The upstream asked for payment itself; the gateway relays no payment challenge it did not issue.',
  ),
  framing: UNSUPPORTED_FRAMING,
} as const

/**
 * Forwards to the upstream; when nothing may be relayed, answers 502 (no connection, or the
 * upstream asked for payment), 504 (timeout) or 501 (a transfer coding that cannot be re-framed).
 */
export async function forwardToUpstream(
  ctx: GatewayContext,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  record: RequestRecord,
  parts: ForwardParts,
): Promise<ForwardOutcome> {
  const startedAt = performance.now()
  const route = record.route ?? 'none'
  const { receipt, ...rest } = parts
  const outcome = await ctx.upstream.forward({
    incoming,
    outgoing,
    clientIp: record.clientIp,
    ...rest,
    // the upstream learns what was paid; the payer gets the receipt on a 2xx only
    ...(receipt && {
      requestHeaders: [['Payment-Receipt', receipt]],
      responseHeaders: (status, cacheControl) => receiptHeaders(status, receipt, cacheControl),
    }),
    onResponse: (status) => {
      record.upstreamStatus = status
    },
  })
  // time to the upstream's response headers: what the upstream costs, streaming aside
  ctx.metrics.upstreamLatency(route, (performance.now() - startedAt) / 1000)
  if (!outcome.ok && !outgoing.headersSent) {
    const problem = FAILURE_PROBLEMS[outcome.failure]
    if (outcome.failure === 'framing')
      ctx.logger.info('request refused', { route, status: problem.status, detail: outcome.message })
    else ctx.logger.warn('upstream failed', { route, status: problem.status, detail: outcome.message })
    sendProblem(outgoing, problem, outcome.failure === 'framing' ? { close: true } : {})
  }
  return outcome
}

/** Forwards as is, except that a Payment credential (still a bearer token) never goes upstream. */
export async function forwardFree(
  ctx: GatewayContext,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  pathAndQuery: string,
  record: RequestRecord,
) {
  const authorization =
    incoming.headers.authorization === undefined ? undefined : extract(incoming.headersDistinct.authorization).others
  return forwardToUpstream(ctx, incoming, outgoing, record, { pathAndQuery, authorization })
}
