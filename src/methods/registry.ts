import type { GatewayConfig } from '../config/types.js'
import { createStripeMethod } from './stripe/charge.js'
import { createTempoMethod } from './tempo/charge.js'
import type { PaymentMethod } from './types.js'

/** The configured payment methods, in the order the config lists them (the order of challenges). */
export function createMethods(config: GatewayConfig): Map<string, PaymentMethod> {
  const methods = new Map<string, PaymentMethod>()
  for (const name of Object.keys(config.methods)) {
    if (name === 'stripe' && config.methods.stripe) methods.set(name, createStripeMethod(config.methods.stripe, config.currency))
    if (name === 'tempo' && config.methods.tempo) methods.set(name, createTempoMethod(config.methods.tempo, config.currency))
  }
  return methods
}
