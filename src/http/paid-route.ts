import type { IncomingMessage, ServerResponse } from 'node:http'
import type { GatewayContext } from './context.js'
import { type BodyRefusal, hasBody, readBody } from './request-body.js'
import { sendProblem } from './respond.js'
import type { RespondDecision } from '../core/decision.js'
import { countAll } from '../core/outcome.js'
import type { RouteOffers } from '../core/price-table.js'
import { RETRY_AFTER_SECONDS, bodyTooLargeProblem } from '../core/respond.js'
import { gatewayProblem } from '../protocol/problem.js'
import { requestFraming } from '../proxy/framing.js'
import { UNSUPPORTED_FRAMING, forwardToUpstream } from './forward.js'
import { grantHold } from './grant-issue.js'
import { paidResult } from './paid-outcome.js'
import { type Validation, validationOf } from '../core/validation.js'
import { extract } from '../protocol/credential.js'
import { type RequestRecord, recordOutcome } from './request-record.js'

/**
 * A request to a priced route, over node:http: reads the body, asks the payment core, then writes
 * its answer, or forwards and commits what the upstream did. Nothing reaches the upstream unless
 * the core said `forward` (a payment settled and its single use was claimed).
 */
export async function handlePaidRoute(
  ctx: GatewayContext,
  routeOffers: RouteOffers,
  pathAndQuery: string,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  record: RequestRecord,
): Promise<void> {
  // Seen from the start: a payer who leaves while the payment settles is not forwarded to.
  let clientGone = false
  outgoing.once('close', () => {
    if (!outgoing.writableFinished) clientGone = true
  })
  const unpayable = ctx.core.precheck(routeOffers)
  if (unpayable) return respond(ctx, outgoing, record, unpayable, hasBody(incoming))

  // refused before any challenge: a body we could not re-frame must never be paid for
  if (requestFraming(incoming.headers) === 'unsupported')
    return sendProblem(outgoing, UNSUPPORTED_FRAMING, { close: true })
  let body: Buffer | undefined
  if (hasBody(incoming)) {
    const { maxBodyBytes } = routeOffers.route
    const read = await readBody(incoming, {
      limit: maxBodyBytes,
      timeoutMs: ctx.config.limits.bodyTimeoutMs,
      budget: ctx.bodyBudget,
    })
    if (!read.ok) return refuseBody(ctx, outgoing, read.reason, maxBodyBytes)
    // the bytes stay reserved while this request may still use them
    outgoing.once('close', read.release)
    body = read.body
  }

  const query = pathAndQuery.indexOf('?')
  const { validate } = routeOffers.route
  const decision = await ctx.core.handle({
    method: incoming.method ?? 'GET',
    path: query === -1 ? pathAndQuery : pathAndQuery.slice(0, query),
    route: routeOffers,
    headers: incoming.headersDistinct,
    body,
    clientIp: record.clientIp,
    ...(validate && {
      validate: () =>
        validateUpstream(
          ctx,
          incoming,
          validate,
          pathAndQuery.slice(query === -1 ? pathAndQuery.length : query),
          body,
          record.clientIp,
        ),
    }),
  })
  if (decision.kind === 'respond') return respond(ctx, outgoing, record, decision, false)

  recordOutcome(record, decision.outcome, ctx.metrics)
  if (clientGone || outgoing.destroyed) {
    // The payer left while it was settling: nothing to forward to. The record goes back to `paid`,
    // and the same credential is forwarded when it comes back (recovery.window).
    const committed = await decision.commit({ outcome: 'client-gone', upstreamStatus: 0 })
    return countAll(ctx.metrics, committed.counts)
  }
  const { grant } = routeOffers.route
  // A browser script reads the key only if CORS exposes its header too.
  const exposed = grant && outgoing.getHeader('Access-Control-Expose-Headers')
  if (grant && typeof exposed === 'string')
    outgoing.setHeader('Access-Control-Expose-Headers', `${exposed}, ${grant.header}`)
  const forwarded = await forwardToUpstream(ctx, incoming, outgoing, record, {
    pathAndQuery,
    body,
    authorization: decision.authorization,
    receipt: decision.receipt,
    trackDelivery: true,
    ...(grant && { hold: grantHold(ctx, routeOffers.route, grant, record) }),
  })
  // The ledger entry waits for the end of the response, so a body cut short is recorded as such.
  const result = paidResult(forwarded, forwarded.ok ? await forwarded.delivery : undefined)
  // an upstream request given up because the payer left is the payer's leaving, not the upstream's failure
  const committed = await decision.commit(
    forwarded.ok
      ? result
      : clientGone
        ? { outcome: 'client-gone', upstreamStatus: 0 }
        : { ...result, failure: forwarded.failure },
  )
  countAll(ctx.metrics, committed.counts)
}

/** Writes a core answer; `close` when a request body was left unread. */
function respond(
  ctx: GatewayContext,
  outgoing: ServerResponse,
  record: RequestRecord,
  decision: RespondDecision,
  close: boolean,
): void {
  recordOutcome(record, decision.outcome, ctx.metrics)
  outgoing.statusCode = decision.status
  for (const [name, value] of Object.entries(decision.headers)) outgoing.setHeader(name, value)
  outgoing.setHeader('Content-Length', Buffer.byteLength(decision.body))
  if (close) outgoing.setHeader('Connection', 'close')
  outgoing.end(decision.body)
}

/** Answers a body that was not read; the rest of it is never read, so the connection closes. */
function refuseBody(ctx: GatewayContext, outgoing: ServerResponse, reason: BodyRefusal, maxBodyBytes: number): void {
  if (reason === 'aborted') return void outgoing.destroy()
  if (reason === 'too-large') {
    return sendProblem(outgoing, bodyTooLargeProblem(maxBodyBytes), { close: true })
  }
  if (reason === 'timeout') {
    ctx.metrics.limitRefused('bodyTimeout')
    const seconds = ctx.config.limits.bodyTimeoutMs / 1000
    return sendProblem(
      outgoing,
      gatewayProblem(408, 'body-timeout', 'Request Timeout', `The request body did not arrive within ${seconds} s.`),
      { close: true },
    )
  }
  ctx.metrics.limitRefused('bufferedBytes')
  sendProblem(
    outgoing,
    gatewayProblem(
      503,
      'body-buffer-full',
      'Service Unavailable',
      'The gateway is holding as many request bodies as it may; retry shortly.',
    ),
    { close: true, retryAfterSeconds: RETRY_AFTER_SECONDS },
  )
}

/** The route's validation path, asked with this request's headers (not its credential) and body. */
async function validateUpstream(
  ctx: GatewayContext,
  incoming: IncomingMessage,
  validate: NonNullable<RouteOffers['route']['validate']>,
  query: string,
  body: Buffer | undefined,
  clientIp: string,
): Promise<Validation> {
  const others = extract(incoming.headers.authorization).others
  const answer = await ctx.upstream.exchange({
    incoming,
    method: validate.request.method,
    pathAndQuery: validate.request.path + query,
    ...(body && { body }),
    ...(others !== undefined && { authorization: others }),
    clientIp,
    maxBodyBytes: VALIDATION_BODY_MAX,
  })
  return validationOf(answer.ok ? { ...answer, body: answer.body.toString('utf8') } : answer)
}

/** a validation answer longer than this is not an answer a client should be handed */
const VALIDATION_BODY_MAX = 64 * 1024
