import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { RegExpRouter } from 'hono/router/reg-exp-router'
import { SmartRouter } from 'hono/router/smart-router'
import { TrieRouter } from 'hono/router/trie-router'
import { canonicalizePath } from '../config/canonical-path.js'
import { extract } from '../protocol/credential.js'
import { gatewayProblem } from '../protocol/problem.js'
import type { GatewayContext } from './context.js'
import { forwardToUpstream } from './forward.js'
import { healthHandlers } from './health.js'
import { handlePaidRoute } from './paid-route.js'
import { sendProblem } from './respond.js'

/** Handles one request whose path is already canonical; `pathAndQuery` is what goes upstream. */
export type Handler = (incoming: IncomingMessage, outgoing: ServerResponse, pathAndQuery: string) => Promise<unknown> | void

/**
 * The HTTP app for one loaded config. Hono's router matches (first matching route wins, as
 * configured); request and response bytes flow through Node streams, and no Web Request or
 * Response object is built per request, which is what keeps a free route close to a bare proxy.
 */
export function createGatewayListener(ctx: GatewayContext): RequestListener {
  const router = new SmartRouter<Handler>({ routers: [new RegExpRouter(), new TrieRouter()] })
  const add = (method: string, path: string, handler: Handler) => {
    router.add(method, path, handler)
    // HEAD follows the GET route, as in every HTTP framework.
    if (method === 'GET') router.add('HEAD', path, handler)
  }
  for (const [path, handler] of Object.entries(healthHandlers(ctx))) add('GET', path, handler)
  add('ALL', '/__gateway/*', (_incoming, outgoing) => sendProblem(outgoing, gatewayProblem(404, 'not-found', 'Not Found', 'No such gateway endpoint.')))
  for (const route of ctx.config.routes) {
    const routeOffers = ctx.offers.get(route)!
    const handler: Handler =
      route.price.kind === 'free'
        ? (incoming, outgoing, pathAndQuery) => forwardFree(ctx, incoming, outgoing, pathAndQuery)
        : (incoming, outgoing, pathAndQuery) => handlePaidRoute(ctx, routeOffers, pathAndQuery, incoming, outgoing)
    add(route.method === '*' ? 'ALL' : route.method, route.path, handler)
  }

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
    const [matches] = router.match(incoming.method ?? 'GET', canonical.path)
    const handler = matches[0]?.[0]
    if (!handler) {
      sendProblem(outgoing, gatewayProblem(404, 'no-route', 'Not Found', 'No route of this gateway matches the request.'))
      return
    }
    Promise.resolve(handler(incoming, outgoing, canonical.path + target.query)).catch((error: unknown) => {
      ctx.logger.error('request failed', { error })
      if (!outgoing.headersSent) sendProblem(outgoing, gatewayProblem(500, 'internal-error', 'Internal Server Error', 'The gateway failed to handle the request.'))
      else outgoing.destroy()
    })
  }
}

function forwardFree(ctx: GatewayContext, incoming: IncomingMessage, outgoing: ServerResponse, pathAndQuery: string) {
  // A credential sent to a free route is still a bearer token: it never goes upstream.
  const authorization = incoming.headers.authorization === undefined ? undefined : extract(incoming.headersDistinct.authorization).others
  return forwardToUpstream(ctx, incoming, outgoing, { pathAndQuery, authorization })
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
