import type { GatewayConfig } from '../config/types.js'
import { createStripeMethod } from './stripe/charge.js'
import type { PaymentMethod } from './types.js'

/** The configured payment methods, in the order the config lists them (the order of challenges). */
export function createMethods(config: GatewayConfig): Map<string, PaymentMethod> {
  const methods = new Map<string, PaymentMethod>()
  if (config.methods.stripe) methods.set('stripe', createStripeMethod(config.methods.stripe, config.currency))
  return methods
}
