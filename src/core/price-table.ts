import type { GatewayConfig, RouteConfig } from '../config/types.js'
import { encodeJson } from '../protocol/challenge.js'
import type { ChargeRequest, PaymentMethod } from './method.js'

/** One way to pay for a route: a method and the exact `request` it charges. */
export interface Offer {
  readonly method: PaymentMethod
  readonly intent: 'charge'
  readonly request: ChargeRequest
  /** base64url(JCS(request)), computed once per config rather than per 402 */
  readonly encodedRequest: string
}

export interface RouteOffers {
  readonly route: RouteConfig
  /** in the order the methods are configured; empty for free routes */
  readonly offers: readonly Offer[]
  /** methods that were left out, with the reason (shown by `check`) */
  readonly unavailable: ReadonlyArray<{ method: string; reason: string }>
}

export type OfferTable = ReadonlyMap<RouteConfig, RouteOffers>

/**
 * Decides which methods each priced route offers. A route that names a method must be chargeable
 * by it (else a config error); a route that leaves `methods` to the default quietly skips the
 * methods that cannot charge its price, but needs at least one that can.
 */
export function resolveOffers(
  config: GatewayConfig,
  methods: ReadonlyMap<string, PaymentMethod>,
): { table: OfferTable; errors: string[] } {
  const table = new Map<RouteConfig, RouteOffers>()
  const errors: string[] = []
  for (const route of config.routes) {
    if (route.price.kind === 'free') {
      table.set(route, { route, offers: [], unavailable: [] })
      continue
    }
    const offers: Offer[] = []
    const unavailable: Array<{ method: string; reason: string }> = []
    const candidates = route.methods ?? [...methods.keys()]
    for (const name of candidates) {
      const method = methods.get(name)
      if (!method) {
        errors.push(`${config.displayName}: routes[${route.index}].methods: "${name}" is not configured under methods`)
        continue
      }
      const quote = method.quote(route.price.amount, route)
      if (quote.ok) {
        offers.push({ method, intent: 'charge', request: quote.request, encodedRequest: encodeJson(quote.request) })
      } else if (route.methods) {
        errors.push(
          `${config.displayName}: routes[${route.index}].methods: ${name} cannot charge ${route.price.amount.text} ${config.currency}: ${quote.reason}`,
        )
      } else {
        unavailable.push({ method: name, reason: quote.reason })
      }
    }
    // Only the sample config (upstream "example") may run with no method at all: it answers 503.
    if (offers.length === 0 && !route.methods && !(config.upstream.example && methods.size === 0)) {
      const why = unavailable.map((u) => `${u.method}: ${u.reason}`).join('; ') || 'no payment method is configured'
      errors.push(
        `${config.displayName}: routes[${route.index}].price: no configured method can charge ${route.price.amount.text} ${config.currency} (${why})`,
      )
    }
    table.set(route, { route, offers, unavailable })
  }
  return { table, errors }
}
