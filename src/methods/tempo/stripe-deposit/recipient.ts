import type { TransactionReceipt } from 'viem'
import type { Address, RouteConfig, StripeDepositConfig } from '../../../config/types.js'
import type { CryptoRecorder } from './recorder.js'
import type { DepositAddress, StripeCrypto } from './stripe-crypto.js'
import {
  BackendUnavailable,
  type ChargeRequest,
  type IssuedRequest,
  PaymentRefused,
  type SettleInput,
} from '../../../core/method.js'
import type { TempoRpc } from '../rpc.js'

/** Stripe's name for the Tempo network (mainnet and testnet alike). */
export const STRIPE_TEMPO_NETWORK = 'tempo'
/** TIP-20 base units in one cent: Stripe records whole cents (6-decimal tokens). */
export const UNITS_PER_CENT = 10_000n
/** the opaque field binding a per-payment challenge to its PaymentIntent */
export const PAYMENT_INTENT_FIELD = 'paymentIntent'
// Stripe watches the chain on its own schedule: a paid retry waits this long for it to notice.
const DETECTION_POLLS = 4
const DETECTION_INTERVAL_MS = 500
// Stripe caps metadata values at 500 characters.
const METADATA_VALUE_MAX = 500

/**
 * Where Tempo payments go when the payee is a Stripe balance (research/stripe.md §4): the
 * recipient of each challenge is a Stripe deposit address, and after the on-chain check the
 * payment is squared with Stripe.
 */
export interface DepositRecipient {
  /** completes a quoted request (no recipient yet) for one 402 */
  issue(quoted: ChargeRequest, route: RouteConfig): Promise<IssuedRequest>
  /** before anything is checked on chain: refuses a challenge this recipient did not issue (a config change since) */
  precheck(input: SettleInput): Promise<void>
  /** after the transfer was verified on chain and its hash claimed: square it with Stripe, or throw */
  confirm(input: SettleInput, receipt: TransactionReceipt, units: bigint): Promise<void>
  close(): void
}

export interface DepositRecipientOptions {
  readonly config: StripeDepositConfig
  readonly crypto: StripeCrypto
  /** reusable only: records verified payments in Stripe */
  readonly recorder?: CryptoRecorder
  readonly rpc: TempoRpc
  /** unix ms */
  readonly now: () => number
  readonly realm: string
  readonly sleep?: (ms: number) => Promise<void>
}

export function createDepositRecipient(options: DepositRecipientOptions): DepositRecipient {
  return options.config.shape === 'reusable' ? reusable(options) : perPayment(options)
}

/**
 * One deposit address for the account, found or created once and cached for the process; each
 * verified payment is then recorded with a transaction-verification PaymentIntent.
 */
function reusable(options: DepositRecipientOptions): DepositRecipient {
  const { crypto, recorder } = options
  if (!recorder) throw new Error('a reusable Stripe deposit address needs a recorder')
  let cached: Promise<DepositAddress> | undefined
  const address = () => {
    cached ??= crypto.findOrCreateDepositAddress(STRIPE_TEMPO_NETWORK).catch((error: unknown) => {
      // not cached: the next 402 asks Stripe again
      cached = undefined
      throw error
    })
    return cached
  }
  return {
    async issue(quoted) {
      const deposit = await address()
      return {
        request: { ...quoted, recipient: deposit.address, currency: pickToken(deposit, options.config.currency) },
      }
    },
    async precheck(input) {
      const deposit = await address()
      if (deposit.address.toLowerCase() !== input.request.recipient?.toLowerCase()) {
        throw new PaymentRefused(
          'invalid-challenge',
          'The challenge names another recipient than the Stripe deposit address; ask for a fresh one.',
        )
      }
    },
    async confirm(input, receipt, units) {
      await recorder.record({
        transactionHash: receipt.transactionHash.toLowerCase(),
        amount: Number(units / UNITS_PER_CENT),
        metadata: {
          mpp_challenge_id: input.challengeId.slice(0, METADATA_VALUE_MAX),
          mpp_realm: input.realm.slice(0, METADATA_VALUE_MAX),
          mpp_intent: 'charge',
        },
      })
    },
    close: () => recorder.close(),
  }
}

/**
 * Stripe's deposit mode: a PaymentIntent per 402, whose own deposit address is the challenge's
 * recipient; Stripe captures what arrives there, and the paid retry checks that it did.
 */
function perPayment(options: DepositRecipientOptions): DepositRecipient {
  const { crypto, config, now } = options
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  return {
    async issue(quoted, route) {
      const cents = Number(BigInt(quoted.amount) / UNITS_PER_CENT)
      const metadata = {
        mpp_realm: options.realm.slice(0, METADATA_VALUE_MAX),
        mpp_route: route.match.slice(0, METADATA_VALUE_MAX),
        mpp_intent: 'charge',
      }
      const intent = await crypto.createDepositIntent(STRIPE_TEMPO_NETWORK, cents, metadata)
      const deposit = intent.deposit!
      return {
        request: { ...quoted, recipient: deposit.address, currency: pickToken(deposit, config.currency) },
        bound: { [PAYMENT_INTENT_FIELD]: intent.id },
      }
    },
    async precheck(input) {
      // A challenge issued before the switch to per-payment has no intent to check.
      if (!input.bound?.[PAYMENT_INTENT_FIELD])
        throw new PaymentRefused(
          'invalid-challenge',
          'This challenge names no Stripe PaymentIntent; ask for a fresh one.',
        )
    },
    async confirm(input, receipt, units) {
      const id = input.bound![PAYMENT_INTENT_FIELD]!
      let intent = await crypto.retrieveIntent(id, STRIPE_TEMPO_NETWORK)
      for (let poll = 1; intent.status === 'requires_action' && poll < DETECTION_POLLS; poll++) {
        await sleep(DETECTION_INTERVAL_MS)
        intent = await crypto.retrieveIntent(id, STRIPE_TEMPO_NETWORK)
      }
      if (BigInt(intent.amount) * UNITS_PER_CENT !== units || intent.currency !== 'usd') {
        throw new PaymentRefused(
          'verification-failed',
          `Stripe PaymentIntent ${id} is for ${intent.amount} ${intent.currency} cents, not this charge.`,
        )
      }
      if (intent.deposit && intent.deposit.address.toLowerCase() !== input.request.recipient?.toLowerCase()) {
        throw new PaymentRefused(
          'verification-failed',
          `Stripe PaymentIntent ${id} has another deposit address than this challenge.`,
        )
      }
      if (intent.status === 'succeeded') return
      if (intent.status === 'processing') {
        const paidAtMs = (await options.rpc.blockTime(receipt.blockNumber)) * 1000
        if (now() - paidAtMs <= config.processingGraceMs) return
        throw new BackendUnavailable(
          'stripe',
          `Stripe has been processing the deposit for PaymentIntent ${id} for longer than ${config.processingGraceMs / 1000} s after the transfer.`,
        )
      }
      if (intent.status === 'requires_action') {
        throw new BackendUnavailable('stripe', `Stripe has not yet seen the deposit for PaymentIntent ${id}.`)
      }
      throw new PaymentRefused(
        'verification-failed',
        `Stripe PaymentIntent ${id} is ${intent.status}; the deposit was not captured.`,
      )
    },
    close() {},
  }
}

/** The token to charge: the configured one if the address accepts it, else the first it accepts. */
function pickToken(deposit: DepositAddress, wanted: Address | undefined): Address {
  if (wanted === undefined) return deposit.tokens[0]!
  const match = deposit.tokens.find((t) => t.toLowerCase() === wanted.toLowerCase())
  if (!match)
    throw new BackendUnavailable(
      'stripe',
      `Stripe's deposit address accepts ${deposit.tokens.join(', ')}, not methods.tempo.currency ${wanted}.`,
    )
  return wanted
}
