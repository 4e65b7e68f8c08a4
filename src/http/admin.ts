import type { RequestListener, ServerResponse } from 'node:http'
import type { HttpBindings } from '@hono/node-server'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import { Hono } from 'hono'
import type { GatewayContext } from './context.js'
import { gatewayProblem } from '../protocol/problem.js'
import { bearerMatches, isLoopbackHostHeader } from './admin-auth.js'
import { nodeListener } from './node-listener.js'
import { sendJson, sentInternalError, sentProblem } from './respond.js'

type AdminHandler = (ctx: GatewayContext, outgoing: ServerResponse) => Promise<unknown> | void

/**
 * `/__gateway/config`: which config is live (its file hash and load time) and what it charges:
 * routes, modes and each method's exact request. Prices and routes only, never a secret.
 * `/__gateway/metrics`: Prometheus text.
 */
const ADMIN_HANDLERS: Record<string, AdminHandler> = {
  '/__gateway/config': (ctx, outgoing) =>
    sendJson(outgoing, 200, {
      hash: ctx.loaded.hash,
      loadedAt: ctx.loaded.at,
      file: ctx.config.displayName,
      realm: ctx.config.realm,
      currency: ctx.config.currency,
      routes: ctx.config.routes.map((route) => {
        const { offers } = ctx.offers.get(route)!
        return {
          match: route.match,
          price: route.price.kind === 'free' ? 'free' : route.price.amount.text,
          mode: route.mode,
          ...(route.description !== undefined ? { description: route.description } : {}),
          offers: offers.map((offer) => ({
            method: offer.method.name,
            intent: offer.intent,
            request: offer.request,
          })),
        }
      }),
    }),
  '/__gateway/metrics': async (ctx, outgoing) => {
    const body = await ctx.metrics.render()
    outgoing.writeHead(200, {
      'Content-Type': ctx.metrics.contentType,
      'Cache-Control': 'no-store',
      'Content-Length': Buffer.byteLength(body),
    })
    outgoing.end(body)
  },
}

export interface AdminListenerOptions {
  /** the live config's context: a reload changes what /config shows */
  readonly current: () => GatewayContext
  /** the bearer token in force; undefined: none (the listener is on loopback) */
  readonly token: () => string | undefined
}

type AdminEnv = { Bindings: HttpBindings }

/** The admin app as a node:http listener. */
export function createAdminListener(options: AdminListenerOptions): RequestListener {
  return nodeListener(createAdminApp(options))
}

/**
 * The admin port's app: authentication first (so nothing, not even which paths exist, shows
 * without it), then GET/HEAD of the admin endpoints. Never forwards anything upstream. Paths
 * match exactly as received, with no decoding or dot-segment resolution.
 */
export function createAdminApp(options: AdminListenerOptions): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>({ getPath: (_request, c) => (c?.env?.incoming.url ?? '/').split('?')[0]! })
  app.use(async (c, next) => {
    const { incoming, outgoing } = c.env
    const token = options.token()
    if (
      token !== undefined
        ? !bearerMatches(incoming.headersDistinct.authorization, token)
        : !isLoopbackHostHeader(incoming.headers.host)
    ) {
      if (token !== undefined) outgoing.setHeader('WWW-Authenticate', 'Bearer realm="mpp-gateway admin"')
      const problem =
        token !== undefined
          ? gatewayProblem(
              401,
              'admin-unauthorized',
              'Unauthorized',
              'The admin endpoints need Authorization: Bearer <admin.token>.',
            )
          : gatewayProblem(
              403,
              'admin-host',
              'Forbidden',
              'Without admin.token, the admin endpoints answer only requests for localhost, 127.0.0.1 or [::1].',
            )
      options
        .current()
        .logger.debug('admin request refused', { status: problem.status, path: (incoming.url ?? '').slice(0, 200) })
      return sentProblem(outgoing, problem)
    }
    if (incoming.method !== 'GET' && incoming.method !== 'HEAD') {
      outgoing.setHeader('Allow', 'GET, HEAD')
      return sentProblem(
        outgoing,
        gatewayProblem(405, 'method-not-allowed', 'Method Not Allowed', 'The admin endpoints answer GET and HEAD.'),
      )
    }
    await next()
  })
  for (const [path, handler] of Object.entries(ADMIN_HANDLERS))
    app.get(path, async (c) => {
      await handler(options.current(), c.env.outgoing)
      return RESPONSE_ALREADY_SENT
    })
  app.notFound((c) =>
    sentProblem(c.env.outgoing, gatewayProblem(404, 'not-found', 'Not Found', 'No such gateway endpoint.')),
  )
  app.onError((error, c) => {
    options.current().logger.error('admin request failed', { error })
    return sentInternalError(c.env.outgoing)
  })
  return app
}
