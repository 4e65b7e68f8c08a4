import type { GatewayConfig } from '../config/types.js'
import type { Logger } from '../log/logger.js'
import type { PaymentCore } from '../core/core.js'
import type { OfferTable } from '../core/price-table.js'
import type { PaymentMethod } from '../core/method.js'
import type { GatewayMetrics } from '../metrics/metrics.js'
import type { Upstream } from '../proxy/upstream.js'
import type { Grants, Health } from '../store/ports.js'
import type { BodyBudget } from './body-budget.js'

/** State shared by every loaded config of one running gateway. */
export interface Lifecycle {
  /** set on SIGTERM: readiness fails and connections are closed after their response */
  draining: boolean
}

/** Everything a request handler needs, built once per loaded config (a reload builds a new one). */
export interface GatewayContext {
  readonly config: GatewayConfig
  readonly offers: OfferTable
  readonly methods: ReadonlyMap<string, PaymentMethod>
  /** readiness, and the grant keys of routes with `grant` / `access`: the payment core holds the claims, rate and ledger ports */
  readonly store: Health & Grants
  /** the payment decisions of this config; adapters call it */
  readonly core: PaymentCore
  readonly upstream: Upstream
  readonly logger: Logger
  readonly metrics: GatewayMetrics
  readonly lifecycle: Lifecycle
  /** request-body bytes buffered across the process (limits.bufferedBytes), shared by every loaded config */
  readonly bodyBudget: BodyBudget
  /** sha-256 of the config file and when it was loaded, for `/__gateway/config` */
  readonly loaded: { readonly hash: string; readonly at: string }
}
