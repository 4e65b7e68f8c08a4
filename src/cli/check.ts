import { loadConfig } from '../config/load.js'
import { describeRoutes } from '../config/describe.js'
import { resolveOffers } from '../core/price-table.js'
import { createMethods } from '../methods/registry.js'
import type { ChargeRequest } from '../methods/types.js'
import { formatMajorUnits, TIP20_DECIMALS } from '../config/amount.js'
import { currencyDecimals } from '../methods/stripe/minimum-charge.js'

/** `mpp-gateway check`: every config error, or the route table with each route's price per method. */
export async function runCheck(file: string, out: { write(text: string): unknown }): Promise<number> {
  const loaded = await loadConfig(file)
  if (!loaded.ok) {
    for (const error of loaded.errors) out.write(`${error}\n`)
    return 1
  }
  const { config } = loaded
  const methods = createMethods(config)
  const { table, errors } = resolveOffers(config, methods)
  if (errors.length > 0) {
    for (const error of errors) out.write(`${error}\n`)
    return 1
  }
  for (const warning of loaded.warnings) out.write(`warning: ${warning}\n`)
  out.write(
    describeRoutes(config, (route) => {
      const routeOffers = table.get(route)!
      // Only the sample config (upstream "example") gets here with no method: its priced routes answer 503.
      if (routeOffers.offers.length === 0 && routeOffers.unavailable.length === 0)
        return [{ method: 'no method enabled (answers 503)' }]
      return [
        ...routeOffers.offers.map((offer) => ({
          method: offer.method.name,
          // A request completed per 402 (a Stripe deposit address) has its issued fields settled only then.
          price: `${majorUnits(offer.method.name, offer.request)}${offer.method.issuer?.fields.length ? ` (${offer.method.issuer.fields.join(' and ')} issued per 402)` : ''}`,
        })),
        ...routeOffers.unavailable.map((u) => ({ method: u.method, unavailable: u.reason })),
      ]
    }),
  )
  out.write(`${config.displayName}: ok\n`)
  return 0
}

const PATH_USD = '0x20c0000000000000000000000000000000000000'

/** What a method charges, in the currency's major units: "0.50 usd", "0.50 pathUSD" (a token by address otherwise). */
export function majorUnits(method: string, request: ChargeRequest): string {
  const units = BigInt(request.amount)
  if (method === 'tempo') {
    const token = request.currency.toLowerCase() === PATH_USD ? 'pathUSD' : request.currency
    return `${formatMajorUnits(units, TIP20_DECIMALS)} ${token}`
  }
  return `${formatMajorUnits(units, currencyDecimals(request.currency))} ${request.currency}`
}
