import { formatBaseUnits, formatMajorUnits, TIP20_DECIMALS } from '../../config/amount.js'
import type { StripeMethodConfig, TempoMethodConfig } from '../../config/types.js'
import { createMemoryStore } from '../../store/memory.js'
import { silentLogger } from '../../log/logger.js'
import type { MethodContext } from '../plugin.js'
import { defineMethod } from '../plugin.js'
import { createCryptoRecorder } from './stripe-deposit/recorder.js'
import { createStripeCrypto } from './stripe-deposit/stripe-crypto.js'
import { createTempoMethod, type TempoMethodOptions } from './charge.js'
import { tempoConfigSchema } from './config.js'
import { createDepositRecipient, STRIPE_TEMPO_NETWORK } from './stripe-deposit/recipient.js'

/** pathUSD, the first TIP-20 USD stablecoin: named, rather than shown as an address */
const PATH_USD = '0x20c0000000000000000000000000000000000000'

/** where the deposit-rail rules report, inside methods.tempo */
const DEPOSIT_KEY = 'recipient.stripeDeposit'

/** Tempo: the payer sends (or signs, for the gateway to send) a TIP-20 transfer on the Tempo chain. */
export const tempoPlugin = defineMethod<TempoMethodConfig>({
  name: 'tempo',
  configSchema: tempoConfigSchema,
  emptyDisables: { key: 'recipient', purpose: 'the 0x address that receives payments' },
  requires: (config) =>
    config.stripeDeposit
      ? {
          key: DEPOSIT_KEY,
          method: 'stripe',
          why: 'its secretKey, apiBase and account are the Stripe account the deposits are paid into',
        }
      : undefined,
  // reusable deposits queue their Stripe records in the store
  withoutStore: (config) =>
    config.stripeDeposit?.shape === 'reusable'
      ? {
          key: DEPOSIT_KEY,
          message:
            'keeps the Stripe records of payments not yet sent in memory, so a restart loses them; set store.url',
        }
      : undefined,
  create: (config, context) =>
    createTempoMethod(config, context.config.currency, depositOptions(config, context.config.methods.stripe, context)),
  formatPrice: (request) => {
    const token = request.currency.toLowerCase() === PATH_USD ? 'pathUSD' : request.currency
    return `${formatMajorUnits(BigInt(request.amount), TIP20_DECIMALS)} ${token}`
  },
  describeOffer: (request) => {
    const { amount, currency, methodDetails } = request
    const chain = methodDetails?.chainId === undefined ? '' : ` on Tempo chain ${String(methodDetails.chainId)}`
    const price =
      amount === '0'
        ? 'a signed proof, no payment'
        : `${formatBaseUnits(BigInt(amount), TIP20_DECIMALS)} USD in token ${currency}`
    return `${price}${chain} (tempo)`
  },
  backends: ['tempo-rpc', 'tempo-fee-payer', 'stripe'],
})

/**
 * The Tempo→Stripe deposit rail, the one edge between two methods: with `recipient.stripeDeposit`,
 * payments go to deposit addresses of the Stripe account of `methods.stripe` (cross-checks.ts
 * makes sure that section is there), recorded in Stripe through the gateway's store.
 */
function depositOptions(
  tempo: TempoMethodConfig,
  stripe: StripeMethodConfig | undefined,
  { config, services }: MethodContext,
): TempoMethodOptions {
  const deposit = tempo.stripeDeposit
  if (!deposit || !stripe) return {}
  return {
    deposit: (rpc, now) => {
      const crypto = createStripeCrypto(stripe)
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
  }
}
