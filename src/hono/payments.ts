import { randomBytes } from 'node:crypto'
import { createRouteTable, type RouteTable } from '../http/route-table.js'
import type { GatewayConfig } from '../config/types.js'
import type { PaymentCore, RouteOffers } from '../core/index.js'
import type { Logger } from '../log/logger.js'
import { createMetrics, type GatewayMetrics } from '../metrics/metrics.js'
import type { StoreBundle } from '../store/ports.js'
import { createStore } from '../store/create.js'
import { buildPaymentParts, closeMethods, warnRandomSecret } from '../server/payment-parts.js'

/** What the middleware prices with: the same store, methods, offers and core the sidecar builds from a config. */
export interface Payments {
  readonly config: GatewayConfig
  readonly core: PaymentCore
  readonly routes: RouteTable<RouteOffers>
  readonly store: StoreBundle
  readonly metrics: GatewayMetrics
  /** Stops the methods' background work, then the store's connection. */
  close(): Promise<void>
}

/**
 * Builds the payment side of a gateway from a validated config, from the same parts as the sidecar
 * (buildPaymentParts), but no upstream or listener: the app serves itself.
 * Throws, with every config error, when a route cannot be priced; nothing is left open then.
 */
export async function buildPayments(
  config: GatewayConfig,
  options: { readonly logger: Logger; readonly now: () => number },
): Promise<Payments> {
  const { logger, now } = options
  const unsupported = proxyOnlyKeys(config)
  if (unsupported.length > 0) throw new Error(unsupported.join('\n'))
  const store = createStore(config.store)
  const metrics = createMetrics()
  if (!config.secretKey) warnRandomSecret(logger)
  const fallbackSecret = randomBytes(32).toString('base64url')
  const built = buildPaymentParts(config, { store, logger, metrics, now, fallbackSecret })
  if (!built.ok) {
    await built.close()
    await store.close()
    throw new Error(built.errors.join('\n'))
  }
  const { methods, offers: table, core } = built.parts
  const close = async () => {
    await closeMethods(methods)
    await store.close()
  }
  // The sidecar's matching rules (first route wins, trailing "/" and case folded unless caseSensitive).
  const routes = createRouteTable<RouteOffers>()
  for (const route of config.routes)
    routes.add(route.method === '*' ? 'ALL' : route.method, route.path, table.get(route)!, route.caseSensitive)
  return { config, core, routes, store, metrics, close }
}

/**
 * Route keys only the sidecar carries out: it asks an upstream (`validate`), reads the upstream's
 * answer (`grant`) or guards a free route (`access`). Served by the middleware, they would be
 * skipped silently, and an `access` route left open, so such a config is refused.
 */
export function proxyOnlyKeys(config: GatewayConfig): string[] {
  const problems: string[] = []
  for (const route of config.routes) {
    for (const key of ['validate', 'grant', 'access'] as const) {
      if (route[key] === undefined) continue
      problems.push(
        `${config.displayName}: routes[${route.index}].${key}: the Hono middleware does not support it; run the sidecar for this route, or do it in the app`,
      )
    }
  }
  return problems
}
