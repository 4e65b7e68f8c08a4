import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RouteOffers } from '../methods/offers.js'
import type { GatewayContext } from './context.js'
import { forwardFree } from './forward.js'
import type { RequestRecord } from './request-record.js'

/**
 * A priced route in `mode: shadow`: served as if free, while counting and logging the 402 it would
 * have sent and what it would have asked for, so an operator can see what a price would do to
 * live traffic before enforcing it. A credential sent anyway is never charged and never forwarded.
 */
export function handleShadowRoute(
  ctx: GatewayContext,
  routeOffers: RouteOffers,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  pathAndQuery: string,
  record: RequestRecord,
) {
  const route = routeOffers.route.match
  const methods = routeOffers.offers.map((offer) => offer.method.name)
  ctx.metrics.shadowChallenge(route, methods)
  for (const offer of routeOffers.offers)
    ctx.metrics.shadowRevenue(route, offer.method.name, offer.request.currency, offer.request.amount)
  // the request's log line says payment "shadow"; the metrics hold what it would have asked for
  record.payment = 'shadow'
  return forwardFree(ctx, incoming, outgoing, pathAndQuery, record)
}
