import { formatBaseUnits, formatMajorUnits } from '../../config/amount.js'
import type { StripeMethodConfig } from '../../config/types.js'
import { defineMethod } from '../plugin.js'
import { createStripeMethod } from './charge.js'
import { stripeConfigSchema } from './config.js'
import { currencyDecimals } from './minimum-charge.js'

/** Stripe: the payer pays with a Shared Payment Token; the gateway charges it with a PaymentIntent. */
export const stripePlugin = defineMethod<StripeMethodConfig>({
  name: 'stripe',
  configSchema: stripeConfigSchema,
  examplePlaceholders: { keys: ['secretKey', 'networkId'], owner: 'Stripe' },
  create: (config, { config: gateway }) => createStripeMethod(config, gateway.currency),
  formatPrice: (request) =>
    `${formatMajorUnits(BigInt(request.amount), currencyDecimals(request.currency))} ${request.currency}`,
  describeOffer: (request) =>
    `${formatBaseUnits(BigInt(request.amount), currencyDecimals(request.currency))} ${request.currency} (stripe)`,
  backends: ['stripe'],
})
