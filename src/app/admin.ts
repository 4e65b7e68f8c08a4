import type { GatewayContext } from './context.js'
import type { Handler } from './gateway.js'
import { sendJson } from './respond.js'

/**
 * `/__gateway/config`: which config is live (its file hash and load time) and what it charges:
 * routes, modes and each method's exact request. Prices and routes only, never a secret.
 * `/__gateway/metrics`: Prometheus text.
 */
export function adminHandlers(ctx: GatewayContext): Record<string, Handler> {
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
            offers: offers.map((offer) => ({ method: offer.method.name, intent: offer.intent, request: offer.request })),
          }
        }),
      }),
    '/__gateway/metrics': async (_incoming, outgoing) => {
      const body = await ctx.metrics.render()
      outgoing.writeHead(200, { 'Content-Type': ctx.metrics.contentType, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) })
      outgoing.end(body)
    },
  }
}
