import type { RateBudget } from '../config/types.js'
import type { Logger } from '../log/logger.js'
import type { RateCounter } from '../store/ports.js'
import type { Count } from './outcome.js'

/** The per-client budgets of 402s. */
export interface ChallengeBudgets {
  /** every 402; undefined: unlimited */
  readonly challenges?: RateBudget
  /** 402s that create an object at a payment backend (a Stripe PaymentIntent per deposit) */
  readonly backendObjects: RateBudget
}

/** A budget this client has used up, and how its 429 names what was counted. */
export interface Exceeded {
  readonly budget: RateBudget
  readonly what: string
}

/**
 * Which budget, if any, one more 402 to this client exceeds (draft-httpauth-payment §Security:
 * issuing challenges costs the server; a per-client limit keeps that bounded). Each counts a hit.
 * Counted in the store, so every replica shares it. Fails open: a 402 forwards nothing, so an
 * unreachable store must not turn away payers.
 */
export async function exceededBudget(
  counter: RateCounter,
  logger: Logger,
  count: (count: Count) => void,
  request: { readonly clientIp: string; readonly createsBackendObject: boolean },
  budgets: ChallengeBudgets,
): Promise<Exceeded | undefined> {
  const over = async (key: string, budget: RateBudget) => {
    try {
      return (await counter.countHit(key, budget.windowMs)) > budget.limit
    } catch (error) {
      count({ metric: 'backendError', args: ['store'] })
      logger.warn('challenge rate limit not enforced: the store is unreachable', { error })
      return false
    }
  }
  if (budgets.challenges && (await over(`challenges:${request.clientIp}`, budgets.challenges)))
    return { budget: budgets.challenges, what: 'payment challenges' }
  // Each such 402 creates a Stripe PaymentIntent: a stricter budget keeps a client from running up Stripe calls.
  if (request.createsBackendObject && (await over(`deposit-intents:${request.clientIp}`, budgets.backendObjects)))
    return { budget: budgets.backendObjects, what: 'payment challenges that create a Stripe PaymentIntent' }
  return undefined
}
