import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { canonicalizePath } from './canonical-path.js'
import { gatewayProblem } from '../protocol/problem.js'
import { createClientIpResolver } from './client-ip.js'
import type { GatewayContext } from '../app/context.js'
import { answerPreflight, applyCors } from './cors.js'
import { discoveryHandlers } from './discovery-routes.js'
import { forwardFree } from '../app/forward.js'
import { healthHandlers } from './health.js'
import { handlePaidRoute } from '../app/paid-route.js'
import { createRouteTable } from './route-table.js'
import { finishRecord, type RequestRecord } from '../app/request-record.js'
import { sendProblem } from './respond.js'
import { handleShadowRoute } from '../app/shadow-route.js'

/** Handles one request whose path is already canonical; `pathAndQuery` is what goes upstream. */
export type Handler = (
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  pathAndQuery: string,
  record: RequestRecord,
) => Promise<unknown> | void

/**
 * The HTTP app for one loaded config. Hono's router matches (first matching route wins, as
 * configured); request and response bytes flow through Node streams, and no Web Request or
 * Response object is built per request, which is what keeps a free route close to a bare proxy.
 * Paths match without their trailing "/" and, unless a route is caseSensitive, in lower case, as
 * Express and most frameworks route by default: no spelling the upstream routes to a priced handler
 * can reach it through a free route.
 */
export function createGatewayListener(ctx: GatewayContext): RequestListener {
  const router = createRouteTable<Handler>()
  const { add } = router
  const own =
    (handler: Handler): Handler =>
    (incoming, outgoing, pathAndQuery, record) => {
      record.route = 'gateway'
      return handler(incoming, outgoing, pathAndQuery, record)
    }
  // Probes only: metrics, config and every other operator endpoint are on the admin listener (admin.ts).
  for (const [path, handler] of Object.entries(healthHandlers(ctx))) add('GET', path, own(handler))
  add(
    'ALL',
    '/__gateway/*',
    own((_incoming, outgoing) =>
      sendProblem(outgoing, gatewayProblem(404, 'not-found', 'Not Found', 'No such gateway endpoint.')),
    ),
  )
  // Discovery documents come before the routes: a catch-all free route must not hide them.
  for (const [path, handler] of Object.entries(discoveryHandlers(ctx))) add('GET', path, own(handler))
  for (const route of ctx.config.routes) {
    const routeOffers = ctx.offers.get(route)!
    const handle: Handler =
      route.price.kind === 'free'
        ? (incoming, outgoing, pathAndQuery, record) => forwardFree(ctx, incoming, outgoing, pathAndQuery, record)
        : route.mode === 'shadow'
          ? (incoming, outgoing, pathAndQuery, record) =>
              handleShadowRoute(ctx, routeOffers, incoming, outgoing, pathAndQuery, record)
          : (incoming, outgoing, pathAndQuery, record) =>
              handlePaidRoute(ctx, routeOffers, pathAndQuery, incoming, outgoing, record)
    add(
      route.method === '*' ? 'ALL' : route.method,
      route.path,
      (incoming, outgoing, pathAndQuery, record) => {
        record.route = route.match
        return handle(incoming, outgoing, pathAndQuery, record)
      },
      route.caseSensitive,
    )
  }
  const clientIpOf = createClientIpResolver(ctx.config.trustedProxies)
  const { cors } = ctx.config

  return (incoming, outgoing) => {
    const startedAt = performance.now()
    const record: RequestRecord = {
      clientIp: clientIpOf(incoming.socket.remoteAddress, incoming.headers['x-forwarded-for']),
    }
    // While draining, every answer closes its connection, so keep-alive clients move to a live replica.
    if (ctx.lifecycle.draining) outgoing.setHeader('Connection', 'close')
    if (cors) {
      if (answerPreflight(cors, incoming, outgoing)) return
      applyCors(cors, incoming, outgoing)
    }
    // Route and forward one canonical spelling of the path, so no other spelling of a priced
    // path can reach the upstream for free.
    const target = splitTarget(incoming.url ?? '/')
    const canonical = target && canonicalizePath(target.path)
    if (!canonical || !canonical.ok) {
      const reason = canonical && !canonical.ok ? canonical.reason : 'unsupported request target'
      finishRecord(record, incoming, outgoing, (target?.path ?? '').slice(0, 200), startedAt, ctx.logger, ctx.metrics)
      sendProblem(
        outgoing,
        gatewayProblem(400, 'bad-path', 'Bad Request', `The request path is not acceptable: ${reason}.`),
      )
      return
    }
    finishRecord(record, incoming, outgoing, canonical.path, startedAt, ctx.logger, ctx.metrics)
    const handler = router.match(incoming.method ?? 'GET', canonical.path)
    if (!handler) {
      sendProblem(
        outgoing,
        gatewayProblem(404, 'no-route', 'Not Found', 'No route of this gateway matches the request.'),
      )
      return
    }
    Promise.resolve(handler(incoming, outgoing, canonical.path + target.query, record)).catch((error: unknown) => {
      ctx.logger.error('request failed', { error })
      if (!outgoing.headersSent)
        sendProblem(
          outgoing,
          gatewayProblem(500, 'internal-error', 'Internal Server Error', 'The gateway failed to handle the request.'),
        )
      else outgoing.destroy()
    })
  }
}

/** Splits an origin-form (or absolute-form) request target into path and `?query`. */
function splitTarget(target: string): { path: string; query: string } | undefined {
  if (!target.startsWith('/')) {
    try {
      const url = new URL(target)
      return { path: url.pathname, query: url.search }
    } catch {
      return undefined
    }
  }
  const q = target.indexOf('?')
  return q === -1 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q) }
}
