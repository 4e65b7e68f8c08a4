import type { GatewayConfig, RouteConfig } from './types.js'

export interface MethodOffer {
  readonly method: string
  /** the amount charged, already formatted in major units, e.g. "0.50 usd" */
  readonly price?: string
  /** why the method does not offer this route */
  readonly unavailable?: string
}

/**
 * The route table printed by `check`: one line per route with its index, match, price and what
 * each payment method charges for it (or why it does not), in aligned columns.
 */
export function describeRoutes(config: GatewayConfig, offers: (route: RouteConfig) => readonly MethodOffer[]): string {
  const rows = config.routes.map((route) => {
    const price = route.access
      ? `free, ${route.access.grant} key`
      : route.price.kind === 'free'
        ? 'free'
        : `${route.price.amount.text} ${config.currency}${route.grant ? `, grants ${route.grant.name} key` : ''}`
    const methods = route.price.kind === 'free' ? '-' : offers(route).map(describeOffer).join('; ') || '-'
    return [`${route.index}`, route.match, price, methods]
  })
  const table = [['#', 'match', 'price', 'methods'], ...rows]
  const widths = [0, 1, 2].map((column) => Math.max(...table.map((row) => row[column]!.length)))
  return table
    .map(
      (row) =>
        `${row
          .map((cell, column) => cell.padEnd(widths[column] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('')
}

function describeOffer(offer: MethodOffer): string {
  if (offer.unavailable !== undefined) return `${offer.method}: not offered: ${offer.unavailable}`
  if (offer.price !== undefined) return `${offer.method}: ${offer.price}`
  return offer.method
}
