import type { GatewayConfig } from '../config/types.js'
import type { Logger } from '../log/logger.js'
import type { OfferTable } from '../methods/offers.js'
import type { PaymentMethod } from '../methods/types.js'
import type { Upstream } from '../proxy/upstream.js'
import type { ReplayStore } from '../store/types.js'

/** Everything a request handler needs, built once per loaded config. */
export interface GatewayContext {
  readonly config: GatewayConfig
  readonly offers: OfferTable
  readonly methods: ReadonlyMap<string, PaymentMethod>
  readonly store: ReplayStore
  readonly upstream: Upstream
  readonly logger: Logger
  /** current HMAC key first, then previous keys still accepted */
  readonly secretKeys: readonly string[]
  readonly now: () => number
}
