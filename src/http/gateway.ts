import type { RequestListener } from 'node:http'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import { Hono } from 'hono'
import type { GatewayContext } from './context.js'
import { handleAccessRoute } from './access-route.js'
import { forwardFree } from './forward.js'
import { handlePaidRoute } from './paid-route.js'
import { finishRecord, type RequestRecord } from './request-record.js'
import { handleShadowRoute } from './shadow-route.js'
import { gatewayProblem } from '../protocol/problem.js'
import { canonicalizePath } from './canonical-path.js'
import { badPathProblem } from '../core/respond.js'
import { createClientIpResolver } from './client-ip.js'
import { answerPreflight, applyCors } from './cors.js'
import { discoveryHandlers } from './discovery-routes.js'
import { healthHandlers } from './health.js'
import { nodeListener } from './node-listener.js'
import { sentInternalError, sentProblem } from './respond.js'
import type { GatewayEnv, RouteHandler } from './route-handler.js'
import { createRouteTable } from './route-table.js'

/** The app of one loaded config as a node:http listener (see node-listener.ts). */
export function createGatewayListener(ctx: GatewayContext): RequestListener {
  return nodeListener(createGatewayApp(ctx))
}

/**
 * The Hono app for one loaded config. Middleware resolves the client, applies CORS and settles
 * the canonical path; one route then picks the handler from the route table, so matching stays
 * as configured: first matching route wins, paths match without their trailing "/" and, unless a
 * route is caseSensitive, in lower case, as Express and most frameworks route by default. No
 * spelling the upstream routes to a priced handler can reach it through a free route. Hono's own
 * router cannot mix case-folded and case-sensitive routes in one order, hence the table.
 * Request and response bytes flow through Node streams; handlers return RESPONSE_ALREADY_SENT.
 */
export function createGatewayApp(ctx: GatewayContext): Hono<GatewayEnv> {
  const table = createRouteTable<RouteHandler>()
  const { add } = table
  const own =
    (handler: RouteHandler): RouteHandler =>
    (c) => {
      c.get('record').route = 'gateway'
      return handler(c)
    }
  // Probes only: metrics, config and every other operator endpoint are on the admin listener (admin.ts).
  for (const [path, handler] of Object.entries(healthHandlers(ctx))) add('GET', path, own(handler))
  add(
    'ALL',
    '/__gateway/*',
    own((c) => sentProblem(c.env.outgoing, gatewayProblem(404, 'not-found', 'Not Found', 'No such gateway endpoint.'))),
  )
  // Discovery documents come before the routes: a catch-all free route must not hide them.
  for (const [path, handler] of Object.entries(discoveryHandlers(ctx))) add('GET', path, own(handler))
  // the header each grant's keys travel in, for the routes that take them
  const grantHeaders = new Map(
    ctx.config.routes.flatMap((route) => (route.grant ? [[route.grant.name, route.grant.header]] : [])),
  )
  for (const route of ctx.config.routes) {
    const routeOffers = ctx.offers.get(route)!
    const { access } = route
    add(
      route.method === '*' ? 'ALL' : route.method,
      route.path,
      async (c) => {
        const { incoming, outgoing } = c.env
        const record = c.get('record')
        const pathAndQuery = c.get('pathAndQuery')
        record.route = route.match
        if (access) {
          const paths = { path: c.get('path'), pathAndQuery }
          await handleAccessRoute(
            ctx,
            route,
            access,
            grantHeaders.get(access.grant)!,
            incoming,
            outgoing,
            paths,
            record,
          )
        } else if (route.price.kind === 'free') await forwardFree(ctx, incoming, outgoing, pathAndQuery, record)
        else if (route.mode === 'shadow')
          await handleShadowRoute(ctx, routeOffers, incoming, outgoing, pathAndQuery, record)
        else await handlePaidRoute(ctx, routeOffers, pathAndQuery, incoming, outgoing, record)
        return RESPONSE_ALREADY_SENT
      },
      route.caseSensitive,
    )
  }
  const clientIpOf = createClientIpResolver(ctx.config.trustedProxies)
  const { cors } = ctx.config

  const app = new Hono<GatewayEnv>()
  app.use(async (c, next) => {
    const { incoming, outgoing } = c.env
    const startedAt = performance.now()
    const record: RequestRecord = {
      clientIp: clientIpOf(incoming.socket.remoteAddress, incoming.headers['x-forwarded-for']),
    }
    c.set('record', record)
    // While draining, every answer closes its connection, so keep-alive clients move to a live replica.
    if (ctx.lifecycle.draining) outgoing.setHeader('Connection', 'close')
    if (cors) {
      if (answerPreflight(cors, incoming, outgoing)) return RESPONSE_ALREADY_SENT
      applyCors(cors, incoming, outgoing)
    }
    // Route and forward one canonical spelling of the path, so no other spelling of a priced
    // path can reach the upstream for free.
    const target = splitTarget(incoming.url ?? '/')
    const canonical = target && canonicalizePath(target.path)
    if (!canonical || !canonical.ok) {
      const reason = canonical && !canonical.ok ? canonical.reason : 'unsupported request target'
      finishRecord(record, incoming, outgoing, (target?.path ?? '').slice(0, 200), startedAt, ctx.logger, ctx.metrics)
      return sentProblem(outgoing, badPathProblem(reason))
    }
    finishRecord(record, incoming, outgoing, canonical.path, startedAt, ctx.logger, ctx.metrics)
    c.set('path', canonical.path)
    c.set('pathAndQuery', canonical.path + target.query)
    await next()
  })
  app.all('*', (c) => {
    const handler = table.match(c.env.incoming.method ?? 'GET', c.get('path'))
    return handler ? handler(c) : c.notFound()
  })
  app.notFound((c) =>
    sentProblem(
      c.env.outgoing,
      gatewayProblem(404, 'no-route', 'Not Found', 'No route of this gateway matches the request.'),
    ),
  )
  app.onError((error, c) => {
    ctx.logger.error('request failed', { error })
    return sentInternalError(c.env.outgoing)
  })
  return app
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
