import type { GatewayConfig } from '../config/types.js'
import { type Logger, silentLogger } from '../log/logger.js'
import { createMemoryStore } from '../store/memory.js'
import type { ReplayStore } from '../store/types.js'
import { createCryptoRecorder } from './stripe/crypto-records.js'
import { createStripeCrypto } from './stripe/crypto.js'
import { createStripeMethod } from './stripe/charge.js'
import { createTempoMethod } from './tempo/charge.js'
import { createDepositRecipient, STRIPE_TEMPO_NETWORK } from './tempo/stripe-deposit.js'
import type { PaymentMethod } from './types.js'

/** What methods with background work (recording payments in Stripe) need from the running gateway. */
export interface MethodServices {
  readonly store: ReplayStore
  readonly logger: Logger
  /** counts a failed backend call in the metrics */
  readonly onBackendError: (backend: string) => void
}

/**
 * The configured payment methods, in the order the config lists them (the order of challenges).
 * Without `services` (config checks, discovery) they only quote: nothing runs in the background.
 */
export function createMethods(config: GatewayConfig, services?: MethodServices): Map<string, PaymentMethod> {
  const methods = new Map<string, PaymentMethod>()
  for (const name of Object.keys(config.methods)) {
    if (name === 'stripe' && config.methods.stripe)
      methods.set(name, createStripeMethod(config.methods.stripe, config.currency))
    if (name === 'tempo' && config.methods.tempo) {
      const tempo = config.methods.tempo
      const stripe = config.methods.stripe
      const deposit = tempo.stripeDeposit && stripe ? tempo.stripeDeposit : undefined
      methods.set(
        name,
        createTempoMethod(tempo, config.currency, {
          ...(deposit && {
            deposit: (rpc, now) => {
              const crypto = createStripeCrypto(stripe!)
              const recorder =
                deposit.shape === 'reusable'
                  ? createCryptoRecorder({
                      crypto,
                      network: STRIPE_TEMPO_NETWORK,
                      store: services?.store ?? createMemoryStore(),
                      logger: services?.logger ?? silentLogger,
                      onBackendError: services?.onBackendError ?? (() => {}),
                      ...(services ? { retryMs: deposit.recordRetryMs } : {}),
                    })
                  : undefined
              return createDepositRecipient({
                config: deposit,
                crypto,
                ...(recorder ? { recorder } : {}),
                rpc,
                now,
                realm: config.realm,
              })
            },
          }),
        }),
      )
    }
  }
  return methods
}
