// The payment core's public API: adapters (node:http, Hono) build on this and nothing deeper.
export { createPaymentCore, type PaymentCore, type PaymentCoreDeps } from './core.js'
export type { Decision, ForwardDecision, PaymentInput, RespondDecision } from './decision.js'
export type { Committed, UpstreamResult } from './ledger.js'
export {
  type Count,
  type Outcome,
  type PaymentLog,
  type PaymentOutcome,
  countAll,
  shadowOutcome,
  shadowOutcomeOf,
} from './outcome.js'
export { type Offer, type OfferTable, type RouteOffers, resolveOffers } from './price-table.js'
export { receiptHeaders } from './receipt.js'
