// The package's public API: the payment core, the config loader, and their types. The Hono
// middleware is `mpp-gateway/hono`; the sidecar is the `mpp-gateway` command.
export { type LoadOptions, type LoadResult, loadConfig, parseConfig } from './config/load.js'
export type { GatewayConfig, RouteConfig } from './config/types.js'
export {
  type Committed,
  type Decision,
  type ForwardDecision,
  type Outcome,
  type PaymentCore,
  type PaymentCoreDeps,
  type PaymentInput,
  type RespondDecision,
  type RouteOffers,
  type UpstreamResult,
  createPaymentCore,
  resolveOffers,
} from './core/index.js'
export type { Logger } from './log/logger.js'
export type { LedgerEntry, PaidOutcome } from './store/types.js'
