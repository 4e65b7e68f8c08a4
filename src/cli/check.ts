import { loadConfig } from '../config/load.js'
import { describeRoutes } from '../config/describe.js'
import { resolveOffers } from '../core/price-table.js'
import { createMethods, methodPlugins, pluginOf } from '../methods/index.js'
import type { MethodPlugin } from '../methods/plugin.js'

/** `mpp-gateway check`: every config error, or the route table with each route's price per method. */
export async function runCheck(
  file: string,
  out: { write(text: string): unknown },
  plugins: readonly MethodPlugin[] = methodPlugins,
): Promise<number> {
  const loaded = await loadConfig(file, { plugins })
  if (!loaded.ok) {
    for (const error of loaded.errors) out.write(`${error}\n`)
    return 1
  }
  const { config } = loaded
  const methods = createMethods(config, undefined, plugins)
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
          price: `${pluginOf(offer.method).formatPrice(offer.request)}${offer.method.issuer?.fields.length ? ` (${offer.method.issuer.fields.join(' and ')} issued per 402)` : ''}`,
        })),
        ...routeOffers.unavailable.map((u) => ({ method: u.method, unavailable: u.reason })),
      ]
    }),
  )
  out.write(`${config.displayName}: ok\n`)
  return 0
}
