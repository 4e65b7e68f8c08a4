import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { type HttpBindings, getRequestListener } from '@hono/node-server'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import { Hono } from 'hono'
import { canonicalizePath } from '../config/canonical-path.js'
import type { RouteOffers } from '../methods/offers.js'
import { extract } from '../protocol/credential.js'
import { gatewayProblem } from '../protocol/problem.js'
import type { GatewayContext } from './context.js'
import { forwardToUpstream } from './forward.js'
import { registerHealth } from './health.js'
import { handlePaidRoute } from './paid-route.js'
import { sendProblem } from './respond.js'

type Env = { Bindings: HttpBindings }

/**
 * The HTTP app for one loaded config. Hono routes (first matching route wins, as configured) and
 * decides; request and response bytes flow through Node streams, never through Web Streams.
 */
export function createGatewayListener(ctx: GatewayContext): RequestListener {
  const app = new Hono<Env>()
  registerHealth(app, ctx)
  app.all('/__gateway/*', (c) => {
    sendProblem(c.env.outgoing, gatewayProblem(404, 'not-found', 'Not Found', 'No such gateway endpoint.'))
    return RESPONSE_ALREADY_SENT
  })

  for (const route of ctx.config.routes) {
    const routeOffers = ctx.offers.get(route)!
    const handler = routeHandler(ctx, routeOffers)
    if (route.method === '*') app.all(route.path, handler)
    else app.on(route.method, route.path, handler)
  }

  app.notFound((c) => {
    sendProblem(c.env.outgoing, gatewayProblem(404, 'no-route', 'Not Found', 'No route of this gateway matches the request.'))
    return RESPONSE_ALREADY_SENT
  })
  app.onError((error, c) => {
    ctx.logger.error('request failed', { error })
    if (!c.env.outgoing.headersSent) sendProblem(c.env.outgoing, gatewayProblem(500, 'internal-error', 'Internal Server Error', 'The gateway failed to handle the request.'))
    else c.env.outgoing.destroy()
    return RESPONSE_ALREADY_SENT
  })

  // Hono answers HEAD by wrapping the GET handler's response in `new Response(null, …)`; with
  // node-server's substitute Response that copy loses the "already sent" mark and node-server
  // writes headers a second time. The platform Response keeps the mark.
  const honoListener = getRequestListener(app.fetch, { overrideGlobalObjects: false })
  return (incoming, outgoing) => {
    // Route and forward one canonical spelling of the path, so no other spelling of a priced
    // path can reach the upstream for free.
    const target = splitTarget(incoming.url ?? '/')
    const canonical = target && canonicalizePath(target.path)
    if (!canonical || !canonical.ok) {
      const reason = canonical && !canonical.ok ? canonical.reason : 'unsupported request target'
      sendProblem(outgoing, gatewayProblem(400, 'bad-path', 'Bad Request', `The request path is not acceptable: ${reason}.`))
      return
    }
    incoming.url = canonical.path + target.query
    void honoListener(incoming, outgoing)
  }
}

function routeHandler(ctx: GatewayContext, routeOffers: RouteOffers) {
  const free = routeOffers.route.price.kind === 'free'
  return async (c: { env: HttpBindings }) => {
    const { incoming, outgoing } = c.env
    const pathAndQuery = incoming.url ?? '/'
    if (free) {
      // A credential sent to a free route is still a bearer token: it never goes upstream.
      const authorization = incoming.headers.authorization === undefined ? undefined : extract(incoming.headersDistinct.authorization).others
      await forwardToUpstream(ctx, incoming, outgoing, { pathAndQuery, authorization })
    }
    else await handlePaidRoute(ctx, routeOffers, pathAndQuery, incoming, outgoing)
    return RESPONSE_ALREADY_SENT
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

export type { IncomingMessage, ServerResponse }
