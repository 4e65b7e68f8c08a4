import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { gatewayProblem } from '../protocol/problem.js'
import { bearerMatches, isLoopbackHostHeader } from './admin-auth.js'
import type { GatewayContext } from '../app/context.js'
import { sendJson, sendProblem } from './respond.js'

type AdminHandler = (incoming: IncomingMessage, outgoing: ServerResponse) => Promise<unknown> | void

/**
 * `/__gateway/config`: which config is live (its file hash and load time) and what it charges:
 * routes, modes and each method's exact request. Prices and routes only, never a secret.
 * `/__gateway/metrics`: Prometheus text.
 */
export function adminHandlers(ctx: GatewayContext): Record<string, AdminHandler> {
  return {
    '/__gateway/config': (_incoming, outgoing) =>
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
    '/__gateway/metrics': async (_incoming, outgoing) => {
      const body = await ctx.metrics.render()
      outgoing.writeHead(200, {
        'Content-Type': ctx.metrics.contentType,
        'Cache-Control': 'no-store',
        'Content-Length': Buffer.byteLength(body),
      })
      outgoing.end(body)
    },
  }
}

export interface AdminListenerOptions {
  /** the live config's context: a reload changes what /config shows */
  readonly current: () => GatewayContext
  /** the bearer token in force; undefined: none (the listener is on loopback) */
  readonly token: () => string | undefined
}

/**
 * The admin port's app: authentication first (so nothing, not even which paths exist, shows
 * without it), then GET/HEAD of the admin endpoints. Never forwards anything upstream.
 */
export function createAdminListener(options: AdminListenerOptions): RequestListener {
  return (incoming, outgoing) => {
    const ctx = options.current()
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
      ctx.logger.debug('admin request refused', { status: problem.status, path: (incoming.url ?? '').slice(0, 200) })
      return sendProblem(outgoing, problem)
    }
    if (incoming.method !== 'GET' && incoming.method !== 'HEAD') {
      outgoing.setHeader('Allow', 'GET, HEAD')
      return sendProblem(
        outgoing,
        gatewayProblem(405, 'method-not-allowed', 'Method Not Allowed', 'The admin endpoints answer GET and HEAD.'),
      )
    }
    const path = (incoming.url ?? '/').split('?')[0]!
    const handler = adminHandlers(ctx)[path]
    if (!handler)
      return sendProblem(outgoing, gatewayProblem(404, 'not-found', 'Not Found', 'No such gateway endpoint.'))
    Promise.resolve(handler(incoming, outgoing)).catch((error: unknown) => {
      ctx.logger.error('admin request failed', { error })
      if (!outgoing.headersSent)
        sendProblem(
          outgoing,
          gatewayProblem(500, 'internal-error', 'Internal Server Error', 'The gateway failed to handle the request.'),
        )
      else outgoing.destroy()
    })
  }
}
