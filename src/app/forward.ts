import type { IncomingMessage, ServerResponse } from 'node:http'
import { gatewayProblem } from '../protocol/problem.js'
import type { ForwardOutcome } from '../proxy/upstream.js'
import type { GatewayContext } from './context.js'
import type { RequestRecord } from './request-record.js'
import { sendProblem } from './respond.js'

export interface ForwardParts {
  readonly pathAndQuery: string
  readonly body?: Buffer
  readonly authorization?: string
  readonly receipt?: string
}

/** Forwards to the upstream; when no response comes, answers 502 (connection) or 504 (timeout). */
export async function forwardToUpstream(ctx: GatewayContext, incoming: IncomingMessage, outgoing: ServerResponse, record: RequestRecord, parts: ForwardParts): Promise<ForwardOutcome> {
  const startedAt = performance.now()
  const route = record.route ?? 'none'
  const outcome = await ctx.upstream.forward({
    incoming,
    outgoing,
    clientIp: record.clientIp,
    ...parts,
    onResponse: (status) => {
      record.upstreamStatus = status
    },
  })
  // time to the upstream's response headers: what the upstream costs, streaming aside
  ctx.metrics.upstreamLatency(route, (performance.now() - startedAt) / 1000)
  if (!outcome.ok && !outgoing.headersSent) {
    const problem =
      outcome.failure === 'timeout'
        ? gatewayProblem(504, 'upstream-timeout', 'Gateway Timeout', 'The upstream did not answer in time.')
        : gatewayProblem(502, 'upstream-unreachable', 'Bad Gateway', 'The upstream could not be reached.')
    ctx.logger.warn('upstream failed', { route, status: problem.status, detail: outcome.message })
    sendProblem(outgoing, problem)
  }
  return outcome
}
