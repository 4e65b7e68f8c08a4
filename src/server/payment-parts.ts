import type { GatewayConfig } from '../config/types.js'
import { createPaymentCore, type OfferTable, type PaymentCore, resolveOffers } from '../core/index.js'
import type { Logger } from '../log/logger.js'
import { createMethods } from '../methods/index.js'
import type { MethodPlugin } from '../methods/plugin.js'
import type { PaymentMethod } from '../core/method.js'
import type { GatewayMetrics } from '../metrics/metrics.js'
import type { StoreBundle } from '../store/ports.js'

export interface PaymentParts {
  readonly methods: Map<string, PaymentMethod>
  readonly offers: OfferTable
  readonly core: PaymentCore
}

/**
 * The payment side of one loaded config: its methods, price table and core. The sidecar builds one
 * per generation and the Hono middleware one in all, so both doors price and settle alike.
 */
export function buildPaymentParts(
  config: GatewayConfig,
  deps: {
    readonly store: StoreBundle
    readonly logger: Logger
    readonly metrics: GatewayMetrics
    readonly now: () => number
    /** the key used when the config sets no secretKey (random per process) */
    readonly fallbackSecret: string
    readonly plugins?: readonly MethodPlugin[] | undefined
  },
): { ok: true; parts: PaymentParts } | { ok: false; errors: string[]; close: () => Promise<unknown> } {
  const { store, logger, metrics } = deps
  const methods = createMethods(
    config,
    { store, logger, onBackendError: (backend) => metrics.backendError(backend) },
    deps.plugins,
  )
  const { table, errors } = resolveOffers(config, methods)
  if (errors.length > 0) return { ok: false, errors, close: () => closeMethods(methods) }
  const core = createPaymentCore({
    config,
    stores: { claims: store, settlements: store, rateCounter: store, ledger: store },
    // the upstream's time to answer, and a margin to write the record
    forwardLeaseMs: config.upstream.timeoutMs + 5_000,
    logger,
    now: deps.now,
    secretKeys: [config.secretKey ?? deps.fallbackSecret, ...config.previousSecretKeys],
  })
  return { ok: true, parts: { methods, offers: table, core } }
}

/** Stops the methods' background work (the Stripe-deposit recorder, say). */
export function closeMethods(methods: ReadonlyMap<string, PaymentMethod>): Promise<unknown> {
  return Promise.all([...methods.values()].map((m) => m.close?.()))
}

export function warnRandomSecret(logger: Logger): void {
  logger.warn(
    'no secretKey configured: using a random challenge key. Challenges die on restart and cannot be verified by other replicas; set secretKey (openssl rand -base64 32).',
  )
}
