import { randomBytes } from 'node:crypto'
import { createRouteTable, type RouteTable } from '../http/route-table.js'
import type { GatewayConfig } from '../config/types.js'
import { createPaymentCore, type PaymentCore, type RouteOffers, resolveOffers } from '../core/index.js'
import type { Logger } from '../log/logger.js'
import { createMethods } from '../methods/index.js'
import { createMetrics, type GatewayMetrics } from '../metrics/metrics.js'
import type { StoreBundle } from '../store/ports.js'
import { createStore } from '../store/create.js'

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
 * (store, method registry, price table, core), but no upstream or listener: the app serves itself.
 * Throws, with every config error, when a route cannot be priced; nothing is left open then.
 */
export async function buildPayments(
  config: GatewayConfig,
  options: { readonly logger: Logger; readonly now: () => number },
): Promise<Payments> {
  const { logger, now } = options
  const store = createStore(config.store)
  const metrics = createMetrics()
  const methods = createMethods(config, {
    store,
    logger,
    onBackendError: (backend) => metrics.backendError(backend),
  })
  const close = async () => {
    await Promise.all([...methods.values()].map((m) => m.close?.()))
    await store.close()
  }
  const { table, errors } = resolveOffers(config, methods)
  if (errors.length > 0) {
    await close()
    throw new Error(errors.join('\n'))
  }
  if (!config.secretKey)
    logger.warn(
      'no secretKey configured: using a random challenge key. Challenges die on restart and cannot be verified by other replicas; set secretKey (openssl rand -base64 32).',
    )
  const secretKeys = [config.secretKey ?? randomBytes(32).toString('base64url'), ...config.previousSecretKeys]
  // The sidecar's matching rules (first route wins, trailing "/" and case folded unless caseSensitive).
  const routes = createRouteTable<RouteOffers>()
  for (const route of config.routes)
    routes.add(route.method === '*' ? 'ALL' : route.method, route.path, table.get(route)!, route.caseSensitive)
  const core = createPaymentCore({
    config,
    stores: { claims: store, rateCounter: store, ledger: store },
    logger,
    now,
    secretKeys,
  })
  return { config, core, routes, store, metrics, close }
}
