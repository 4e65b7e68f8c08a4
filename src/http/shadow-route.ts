import type { IncomingMessage, ServerResponse } from 'node:http'
import type { GatewayContext } from './context.js'
import { shadowOutcomeOf } from '../core/outcome.js'
import type { RouteOffers } from '../core/price-table.js'
import { forwardFree } from './forward.js'
import { type RequestRecord, recordOutcome } from './request-record.js'

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
  recordOutcome(record, shadowOutcomeOf(routeOffers), ctx.metrics)
  return forwardFree(ctx, incoming, outgoing, pathAndQuery, record)
}
