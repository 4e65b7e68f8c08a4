import { randomBytes } from 'node:crypto'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A local stand-in for the parts of Stripe's API the gateway uses, over real HTTP, so tests
 * exercise the SDK's form encoding, headers, errors, timeouts and retries. It keeps Stripe's
 * rules that matter for payments: SPTs are single use and capped, idempotency keys replay the
 * first answer, and failures carry Stripe's error shapes (research/stripe.md §1, §5).
 * Where Stripe's behaviour is unobserved (SPT error bodies), it follows third-party reports.
 */

export type FormValue = string | FormValue[] | { [key: string]: FormValue }
export type FormObject = { [key: string]: FormValue }

export interface RecordedStripeRequest {
  method: string
  /** without the query string */
  path: string
  query: string
  /** lower-case names; repeated headers joined with ", " */
  headers: Record<string, string>
  body: string
  /** the form-encoded body as sent: `automatic_payment_methods[enabled]` → "true" */
  form: Record<string, string>
  /** the same, parsed into nested objects: `{ automatic_payment_methods: { enabled: "true" } }` */
  params: FormObject
}

export type DeactivatedReason = 'consumed' | 'expired' | 'resolved' | 'revoked'

export interface FakeSharedPaymentToken {
  id: string
  object: 'shared_payment.granted_token'
  created: number
  livemode: false
  /** the test PaymentMethod behind it; decides how charges behave (see PAYMENT_METHODS) */
  payment_method: string
  usage_limits: { currency: string; max_amount: number; expires_at: number | null }
  usage_details: { amount_captured: { value: number; currency: string } }
  deactivated_at: number | null
  deactivated_reason: DeactivatedReason | null
}

export interface StripeErrorBody {
  type: string
  message: string
  code?: string
  decline_code?: string
  param?: string
  payment_intent?: FakePaymentIntent
}

export interface FakePaymentIntent {
  id: string
  object: 'payment_intent'
  amount: number
  amount_received: number
  amount_capturable: number
  currency: string
  status: 'succeeded' | 'requires_action' | 'requires_payment_method' | 'processing' | 'canceled'
  capture_method: 'automatic'
  confirmation_method: 'automatic'
  client_secret: string
  created: number
  livemode: false
  description: string | null
  metadata: Record<string, string>
  automatic_payment_methods: { enabled: boolean; allow_redirects?: string } | null
  /** SPT charges only */
  shared_payment_granted_token?: string
  payment_method: string | null
  latest_charge: string | null
  /**
   * The sum of its refunds. The fake's shortcut: Stripe's PaymentIntent has no such field (the SDK's types
   * neither); Stripe keeps it on the charge (`latest_charge`, see FakeCharge), so gateway code reads it there.
   */
  amount_refunded: number
  last_payment_error: Omit<StripeErrorBody, 'payment_intent'> | null
  next_action:
    | { type: 'use_stripe_sdk'; use_stripe_sdk: Record<string, unknown> }
    | {
        type: 'crypto_display_details'
        crypto_display_details: { deposit_addresses: Record<string, FakeNetworkDeposit> }
      }
    | null
  /** crypto intents only */
  payment_method_types?: string[]
  payment_method_options?: {
    crypto: {
      mode: 'deposit' | 'transaction_verification'
      deposit_options?: { networks: string[] }
      transaction_verification_options?: { network: string; transaction_hash: string }
    }
  }
  /** crypto intents: the transaction that paid it (as `payment_method_details.crypto.transaction_hash` on the charge) */
  crypto_transaction_hash?: string
}

export type RefundReason = 'duplicate' | 'fraudulent' | 'requested_by_customer'

/** `POST /v1/refunds` objects; the fake's refunds succeed at once (card refunds do) */
export interface FakeRefund {
  id: string
  object: 'refund'
  /** in minor units: what this refund alone returns */
  amount: number
  currency: string
  payment_intent: string
  charge: string
  created: number
  metadata: Record<string, string>
  reason: RefundReason | null
  status: 'succeeded'
  balance_transaction: string
}

/** A PaymentIntent's latest charge as `GET /v1/charges/:id` and `expand[]=latest_charge` show it, derived from the intent */
export interface FakeCharge {
  id: string
  object: 'charge'
  amount: number
  amount_captured: number
  amount_refunded: number
  /** true once fully refunded only */
  refunded: boolean
  captured: boolean
  paid: boolean
  status: 'succeeded' | 'pending' | 'failed'
  currency: string
  payment_intent: string
  created: number
}

export interface FakeNetworkDeposit {
  address: string
  supported_tokens: Array<{ token_currency: string; token_contract_address: string }>
}

/** `/v1/crypto/deposit_addresses` objects */
export interface FakeDepositAddress extends FakeNetworkDeposit {
  id: string
  object: 'crypto.deposit_address'
  network: string
  livemode: false
  metadata: Record<string, string>
}

export interface FakeStripeFaults {
  /** answer this many requests with a 500 api_error, executing and saving nothing */
  status500Next: number
  /** wait this long before answering (read when a request arrives; the work is done after the wait) */
  delayMs: number
  /** destroy this many connections after reading the request, without answering or executing */
  dropConnectionNext: number
  /** Stripe unreachable: every connection is destroyed after reading the request (test helpers excepted) */
  down: boolean
}

export interface FakeStripeOptions {
  /** API keys accepted; default: any key starting with `sk_test_` */
  validKeys?: readonly string[]
  /** token contracts crypto deposit addresses accept; default pathUSD (Stripe's test mode on Tempo) */
  cryptoTokens?: readonly string[]
  /** port on 127.0.0.1; default 0 (a free one) */
  port?: number
}

export interface IssueSptOptions {
  /** a test PaymentMethod: pm_card_visa (default), pm_card_chargeDeclined, pm_card_authenticationRequired, ... */
  paymentMethod?: string
  /** in minor units */
  maxAmount: number
  currency: string
  /** unix seconds; default an hour from now */
  expiresAt?: number
}

export interface FakeStripe {
  /** e.g. http://127.0.0.1:54321 */
  readonly url: string
  readonly port: number
  /** every request received, in order (also those refused or faulted) */
  readonly requests: RecordedStripeRequest[]
  /** by id, every PaymentIntent created (including declined ones) */
  readonly paymentIntents: Map<string, FakePaymentIntent>
  readonly sharedPaymentTokens: Map<string, FakeSharedPaymentToken>
  /** by id, every refund created (refused refund requests create none) */
  readonly refunds: Map<string, FakeRefund>
  /** minor units refunded of a PaymentIntent so far: the sum of its refunds (0 for an unknown id) */
  refunded(paymentIntentId: string): number
  /** a PaymentIntent's refunds, oldest first */
  refundsOf(paymentIntentId: string): FakeRefund[]
  /** mutable; tests set them and reset them */
  readonly faults: FakeStripeFaults
  /** PaymentIntents that reached `succeeded`, i.e. money moved */
  charges(): number
  /** `/v1/crypto/deposit_addresses` objects created, by id */
  readonly depositAddresses: Map<string, FakeDepositAddress>
  /** transaction-verification PaymentIntents: the payments recorded for `transactionHash` (all of them, if omitted) */
  cryptoRecords(transactionHash?: string): FakePaymentIntent[]
  /** the deposit-mode PaymentIntent whose deposit address on `network` this is */
  depositIntentFor(address: string, network?: string): FakePaymentIntent | undefined
  /**
   * Like `POST /v1/test_helpers/payment_intents/:id/simulate_crypto_deposit`: Stripe saw the
   * deposit. The intent becomes `settleAs` (default `succeeded`: captured).
   */
  simulateCryptoDeposit(id: string, transactionHash: string, settleAs?: 'succeeded' | 'processing'): FakePaymentIntent
  /** registers an SPT (like the test helper endpoint) and resolves to its id */
  issueSpt(options: IssueSptOptions): Promise<string>
  /** forgets all state, recorded requests and faults */
  reset(): void
  close(): Promise<void>
}

/** How each test PaymentMethod behaves when charged (named after Stripe's test PaymentMethods). */
const PAYMENT_METHODS: Record<
  string,
  | { outcome: 'succeed' }
  | { outcome: 'requires_action' }
  | { outcome: 'decline'; code: string; declineCode?: string; message: string }
> = {
  pm_card_visa: { outcome: 'succeed' },
  pm_card_mastercard: { outcome: 'succeed' },
  pm_card_chargeDeclined: {
    outcome: 'decline',
    code: 'card_declined',
    declineCode: 'generic_decline',
    message: 'Your card was declined.',
  },
  pm_card_chargeDeclinedInsufficientFunds: {
    outcome: 'decline',
    code: 'card_declined',
    declineCode: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  pm_card_chargeDeclinedExpiredCard: { outcome: 'decline', code: 'expired_card', message: 'Your card has expired.' },
  pm_card_authenticationRequired: { outcome: 'requires_action' },
}

const PAYMENT_INTENT_PARAMS = new Set([
  'amount',
  'currency',
  'confirm',
  'automatic_payment_methods',
  'metadata',
  'description',
  'return_url',
  'receipt_email',
  'customer',
  'expand',
])
const CRYPTO_INTENT_PARAMS = new Set([
  'amount',
  'currency',
  'confirm',
  'metadata',
  'description',
  'payment_method_types',
  'payment_method_data',
  'payment_method_options',
])
const REFUND_PARAMS = new Set(['payment_intent', 'charge', 'amount', 'reason', 'metadata', 'expand'])
const REFUND_REASONS: readonly string[] = ['duplicate', 'fraudulent', 'requested_by_customer']
const CRYPTO_NETWORKS = ['tempo', 'base', 'solana']
const PATH_USD_CONTRACT = '0x20c0000000000000000000000000000000000000'
const SPT_PARAM = 'shared_payment_granted_token'
const DEACTIVATED_MESSAGE =
  'The shared payment granted token cannot be used because it is already in a deactivated state.'
const OVER_LIMIT_MESSAGE =
  'The requested amount is greater than the remaining amount capturable with this shared payment granted token.'

interface Outcome {
  status: number
  body: unknown
}

interface Context {
  query: URLSearchParams
  method: string
  path: string
  version: string | undefined
  form: Record<string, string>
  params: FormObject
}

type Saved =
  | { fingerprint: string; state: 'in_flight' }
  | { fingerprint: string; state: 'done'; outcome: Outcome; requestId: string }

export async function startFakeStripe(options: FakeStripeOptions = {}): Promise<FakeStripe> {
  const requests: RecordedStripeRequest[] = []
  const paymentIntents = new Map<string, FakePaymentIntent>()
  const tokens = new Map<string, FakeSharedPaymentToken>()
  const idempotency = new Map<string, Saved>()
  const faults: FakeStripeFaults = { status500Next: 0, delayMs: 0, dropConnectionNext: 0, down: false }
  const depositAddresses = new Map<string, FakeDepositAddress>()
  const refunds = new Map<string, FakeRefund>()
  /** deposit-mode intents' tempo address, kept after Stripe stops showing it */
  const depositShown = new Map<string, string>()
  const cryptoTokens = options.cryptoTokens ?? [PATH_USD_CONTRACT]
  const timers = new Set<NodeJS.Timeout>()

  const keyIsValid = (key: string) => (options.validKeys ? options.validKeys.includes(key) : key.startsWith('sk_test_'))

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0) return resolve()
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve()
      }, ms)
      timers.add(timer)
    })

  function issue(
    paymentMethod: string,
    maxAmount: number,
    currency: string,
    expiresAt: number | null,
  ): FakeSharedPaymentToken {
    const token: FakeSharedPaymentToken = {
      id: newId('spt'),
      object: 'shared_payment.granted_token',
      created: nowSeconds(),
      livemode: false,
      payment_method: paymentMethod,
      usage_limits: { currency, max_amount: maxAmount, expires_at: expiresAt },
      usage_details: { amount_captured: { value: 0, currency } },
      deactivated_at: null,
      deactivated_reason: null,
    }
    tokens.set(token.id, token)
    return token
  }

  function deactivate(token: FakeSharedPaymentToken, reason: DeactivatedReason): void {
    if (token.deactivated_reason !== null) return
    token.deactivated_at = nowSeconds()
    token.deactivated_reason = reason
  }

  /** Refreshes expiry lazily, as a read at Stripe would see it. */
  function current(token: FakeSharedPaymentToken): FakeSharedPaymentToken {
    if (token.usage_limits.expires_at !== null && nowSeconds() >= token.usage_limits.expires_at)
      deactivate(token, 'expired')
    return token
  }

  // ---- POST /v1/payment_intents ------------------------------------------------------------

  function validatePaymentIntent(ctx: Context): Outcome | undefined {
    if (isCrypto(ctx)) return validateCryptoIntent(ctx)
    const preview = ctx.version?.endsWith('.preview') === true
    for (const name of Object.keys(ctx.params)) {
      // GA versions do not know SPTs; Stripe answers as for any unknown parameter.
      if (name === SPT_PARAM && preview) continue
      if (!PAYMENT_INTENT_PARAMS.has(name))
        return invalid(`Received unknown parameter: ${name}`, { code: 'parameter_unknown', param: name })
    }
    const { amount, currency, confirm, automatic_payment_methods: apm, metadata } = ctx.params
    if (amount === undefined)
      return invalid('Missing required param: amount.', { code: 'parameter_missing', param: 'amount' })
    if (typeof amount !== 'string' || !/^[0-9]+$/.test(amount))
      return invalid(`Invalid integer: ${String(amount)}`, { code: 'parameter_invalid_integer', param: 'amount' })
    if (Number(amount) < 1)
      return invalid('This value must be greater than or equal to 1.', {
        code: 'parameter_invalid_integer',
        param: 'amount',
      })
    if (Number(amount) > 99_999_999)
      return invalid('Amount must be no more than 99999999.', { code: 'amount_too_large', param: 'amount' })
    if (currency === undefined)
      return invalid('Missing required param: currency.', { code: 'parameter_missing', param: 'currency' })
    if (typeof currency !== 'string' || !/^[a-z]{3}$/.test(currency))
      return invalid(`Invalid currency: ${String(currency)}.`, { code: 'parameter_invalid_string', param: 'currency' })
    const badMetadata = invalidMetadata(metadata)
    if (badMetadata) return badMetadata
    // Limits of the fake, said plainly rather than imitated.
    if (confirm !== 'true') return invalid('The fake Stripe only supports confirm=true.', { param: 'confirm' })
    const spt = ctx.params[SPT_PARAM]
    if (typeof spt !== 'string' || spt === '')
      return invalid(`The fake Stripe needs ${SPT_PARAM} (with a .preview Stripe-Version).`, {
        code: 'parameter_missing',
        param: SPT_PARAM,
      })
    const apmObject = typeof apm === 'object' && !Array.isArray(apm) ? apm : undefined
    if (ctx.params.return_url === undefined && apmObject?.allow_redirects !== 'never') {
      return invalid(
        "This PaymentIntent is configured to accept payment methods enabled in your Dashboard, because some of these payment methods might redirect your customer off of your page, you must provide a `return_url`. If you don't want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.",
      )
    }
    return undefined
  }

  function createPaymentIntent(ctx: Context): Outcome {
    if (isCrypto(ctx)) return createCryptoIntent(ctx)
    const sptId = ctx.params[SPT_PARAM] as string
    const amount = Number(ctx.params.amount)
    const currency = ctx.params.currency as string
    const token = tokens.get(sptId)
    // Stripe echoes the token in this message; the gateway must not pass that on (redaction test).
    if (!token)
      return invalid(`No such shared payment granted token: '${sptId}'`, { code: 'resource_missing', param: SPT_PARAM })
    current(token)
    if (token.deactivated_reason !== null) return invalid(DEACTIVATED_MESSAGE)
    if (token.usage_limits.currency !== currency) {
      return invalid(
        `The currency of this PaymentIntent (${currency}) does not match the currency of the shared payment granted token (${token.usage_limits.currency}).`,
        { param: 'currency' },
      )
    }
    if (amount > token.usage_limits.max_amount - token.usage_details.amount_captured.value)
      return invalid(OVER_LIMIT_MESSAGE)

    const apm = ctx.params.automatic_payment_methods
    const intent: FakePaymentIntent = {
      ...newIntent(ctx, amount, currency),
      automatic_payment_methods:
        typeof apm === 'object' && !Array.isArray(apm)
          ? {
              enabled: apm.enabled === 'true',
              ...(typeof apm.allow_redirects === 'string' ? { allow_redirects: apm.allow_redirects } : {}),
            }
          : null,
      shared_payment_granted_token: token.id,
    }
    paymentIntents.set(intent.id, intent)

    const behaviour = PAYMENT_METHODS[token.payment_method] ?? { outcome: 'succeed' as const }
    if (behaviour.outcome === 'decline') {
      // A decline under confirm=true is an HTTP 402 carrying the failed intent; the SPT stays usable.
      intent.latest_charge = newId('ch')
      const error = {
        type: 'card_error',
        code: behaviour.code,
        ...(behaviour.declineCode ? { decline_code: behaviour.declineCode } : {}),
        message: behaviour.message,
      }
      intent.last_payment_error = error
      return { status: 402, body: { error: { ...error, payment_intent: intent } } }
    }
    if (behaviour.outcome === 'requires_action') {
      intent.status = 'requires_action'
      intent.next_action = { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect' } }
      return { status: 200, body: intent }
    }
    intent.status = 'succeeded'
    intent.amount_received = amount
    intent.latest_charge = newId('ch')
    token.usage_details.amount_captured.value += amount
    // SPTs are single use: one successful charge deactivates the token.
    deactivate(token, 'consumed')
    return { status: 200, body: intent }
  }

  /** An unconfirmed PaymentIntent from the create parameters every kind shares. */
  function newIntent(ctx: Context, amount: number, currency: string): FakePaymentIntent {
    const metadata = ctx.params.metadata
    const id = newId('pi')
    return {
      id,
      object: 'payment_intent',
      amount,
      amount_received: 0,
      amount_capturable: 0,
      currency,
      status: 'requires_payment_method',
      capture_method: 'automatic',
      confirmation_method: 'automatic',
      client_secret: `${id}_secret_${randomBytes(12).toString('hex')}`,
      created: nowSeconds(),
      livemode: false,
      description: typeof ctx.params.description === 'string' ? ctx.params.description : null,
      metadata: typeof metadata === 'object' && !Array.isArray(metadata) ? (metadata as Record<string, string>) : {},
      automatic_payment_methods: null,
      // Stripe confirms with a clone of the (shared) PaymentMethod.
      payment_method: newId('pm'),
      latest_charge: null,
      amount_refunded: 0,
      last_payment_error: null,
      next_action: null,
    }
  }

  // ---- crypto: deposit addresses, deposit mode, transaction verification (research/stripe.md §4)

  const isCrypto = (ctx: Context) =>
    Array.isArray(ctx.params.payment_method_types) && ctx.params.payment_method_types.includes('crypto')

  function networkDeposit(): FakeNetworkDeposit {
    return {
      address: `0x${randomBytes(20).toString('hex')}`,
      supported_tokens: cryptoTokens.map((token) => ({ token_currency: 'usdc', token_contract_address: token })),
    }
  }

  function validateCryptoIntent(ctx: Context): Outcome | undefined {
    if (!ctx.version?.endsWith('.preview'))
      return invalid('The crypto payment method with a mode needs a .preview Stripe-Version.', {
        param: 'payment_method_options[crypto][mode]',
      })
    for (const name of Object.keys(ctx.params))
      if (!CRYPTO_INTENT_PARAMS.has(name))
        return invalid(`Received unknown parameter: ${name}`, { code: 'parameter_unknown', param: name })
    const { amount, currency, confirm, payment_method_data: data, payment_method_options: options } = ctx.params
    if (typeof amount !== 'string' || !/^[1-9][0-9]*$/.test(amount))
      return invalid(`Invalid integer: ${String(amount)}`, { code: 'parameter_invalid_integer', param: 'amount' })
    if (currency !== 'usd') return invalid('Crypto payments are in usd.', { param: 'currency' })
    if (confirm !== 'true') return invalid('The fake Stripe only supports confirm=true.', { param: 'confirm' })
    if (typeof data !== 'object' || Array.isArray(data) || data.type !== 'crypto')
      return invalid('payment_method_data[type] must be crypto.', { param: 'payment_method_data[type]' })
    const crypto = typeof options === 'object' && !Array.isArray(options) ? options.crypto : undefined
    if (typeof crypto !== 'object' || Array.isArray(crypto))
      return invalid('Missing required param: payment_method_options[crypto][mode].', { code: 'parameter_missing' })
    if (crypto.mode === 'deposit') {
      const deposit = crypto.deposit_options
      const networks = typeof deposit === 'object' && !Array.isArray(deposit) ? deposit.networks : undefined
      if (!Array.isArray(networks) || networks.length === 0)
        return invalid('Missing required param: payment_method_options[crypto][deposit_options][networks].', {
          code: 'parameter_missing',
        })
      for (const network of networks)
        if (typeof network !== 'string' || !CRYPTO_NETWORKS.includes(network))
          return invalid(`Invalid network: ${String(network)}`, {
            param: 'payment_method_options[crypto][deposit_options][networks]',
          })
      return undefined
    }
    if (crypto.mode === 'transaction_verification') {
      const verification = crypto.transaction_verification_options
      if (typeof verification !== 'object' || Array.isArray(verification))
        return invalid('Missing required param: payment_method_options[crypto][transaction_verification_options].', {
          code: 'parameter_missing',
        })
      if (typeof verification.network !== 'string' || !CRYPTO_NETWORKS.includes(verification.network))
        return invalid('Invalid network.', {
          param: 'payment_method_options[crypto][transaction_verification_options][network]',
        })
      if (
        typeof verification.transaction_hash !== 'string' ||
        !/^0x[0-9a-f]{64}$/i.test(verification.transaction_hash)
      ) {
        return invalid('Invalid transaction hash.', {
          param: 'payment_method_options[crypto][transaction_verification_options][transaction_hash]',
        })
      }
      return undefined
    }
    return invalid(`Invalid mode: ${String(crypto.mode)}`, { param: 'payment_method_options[crypto][mode]' })
  }

  function createCryptoIntent(ctx: Context): Outcome {
    const options = (ctx.params.payment_method_options as FormObject).crypto as FormObject
    const intent: FakePaymentIntent = {
      ...newIntent(ctx, Number(ctx.params.amount), 'usd'),
      status: 'requires_action',
      payment_method_types: ['crypto'],
    }
    if (options.mode === 'deposit') {
      const networks = (options.deposit_options as FormObject).networks as string[]
      intent.payment_method_options = { crypto: { mode: 'deposit', deposit_options: { networks } } }
      intent.next_action = {
        type: 'crypto_display_details',
        crypto_display_details: { deposit_addresses: Object.fromEntries(networks.map((n) => [n, networkDeposit()])) },
      }
    } else {
      const verification = options.transaction_verification_options as Record<string, string>
      intent.payment_method_options = {
        crypto: {
          mode: 'transaction_verification',
          transaction_verification_options: {
            network: verification.network!,
            transaction_hash: verification.transaction_hash!,
          },
        },
      }
      settleCrypto(intent, verification.transaction_hash!, 'succeeded')
    }
    paymentIntents.set(intent.id, intent)
    return { status: 200, body: intent }
  }

  function settleCrypto(intent: FakePaymentIntent, transactionHash: string, status: 'succeeded' | 'processing'): void {
    if (intent.next_action?.type === 'crypto_display_details') {
      const tempo = intent.next_action.crypto_display_details.deposit_addresses.tempo
      if (tempo) depositShown.set(intent.id, tempo.address)
    }
    intent.status = status
    intent.next_action = null
    intent.crypto_transaction_hash = transactionHash
    if (status === 'succeeded') {
      intent.amount_received = intent.amount
      intent.latest_charge = newId('ch')
    }
  }

  function simulateDeposit(
    id: string,
    transactionHash: string,
    settleAs: 'succeeded' | 'processing' = 'succeeded',
  ): Outcome {
    const intent = paymentIntents.get(id)
    if (!intent) return found(undefined, 'payment_intent', id)
    if (intent.payment_method_options?.crypto.mode !== 'deposit')
      return invalid('This PaymentIntent is not in crypto deposit mode.')
    if (intent.status !== 'requires_action' && intent.status !== 'processing')
      return invalid(`This PaymentIntent's status is ${intent.status}.`, { code: 'payment_intent_unexpected_state' })
    settleCrypto(intent, transactionHash, settleAs)
    return { status: 200, body: intent }
  }

  /** newest first, like Stripe's list endpoints */
  function listPaymentIntents(ctx: Context): Outcome {
    const limit = Number(ctx.query.get('limit') ?? '10')
    const data = [...paymentIntents.values()].reverse().slice(0, limit)
    return {
      status: 200,
      body: { object: 'list', url: '/v1/payment_intents', has_more: paymentIntents.size > data.length, data },
    }
  }

  function listDepositAddresses(ctx: Context): Outcome {
    const { query } = ctx
    const network = query.get('network')
    const limit = Number(query.get('limit') ?? '10')
    const data = [...depositAddresses.values()].filter((a) => network === null || a.network === network).slice(0, limit)
    return { status: 200, body: { object: 'list', url: '/v1/crypto/deposit_addresses', has_more: false, data } }
  }

  function createDepositAddress(ctx: Context): Outcome {
    const network = ctx.params.network
    if (typeof network !== 'string' || !CRYPTO_NETWORKS.includes(network))
      return invalid(`Invalid network: ${String(network)}`, { param: 'network' })
    const address: FakeDepositAddress = {
      id: newId('cda'),
      object: 'crypto.deposit_address',
      network,
      livemode: false,
      metadata: {},
      ...networkDeposit(),
    }
    depositAddresses.set(address.id, address)
    return { status: 200, body: address }
  }

  // ---- test helpers ------------------------------------------------------------------------

  function validateIssue(ctx: Context): Outcome | undefined {
    const { payment_method: pm, usage_limits: limits } = ctx.params
    if (typeof pm !== 'string')
      return invalid('Missing required param: payment_method.', { code: 'parameter_missing', param: 'payment_method' })
    if (!(pm in PAYMENT_METHODS))
      return invalid(`No such PaymentMethod: '${pm}'`, { code: 'resource_missing', param: 'payment_method' })
    if (typeof limits !== 'object' || Array.isArray(limits))
      return invalid('Missing required param: usage_limits.', { code: 'parameter_missing', param: 'usage_limits' })
    if (typeof limits.currency !== 'string' || !/^[a-z]{3}$/.test(limits.currency))
      return invalid('Missing required param: usage_limits[currency].', {
        code: 'parameter_missing',
        param: 'usage_limits[currency]',
      })
    if (typeof limits.max_amount !== 'string' || !/^[0-9]+$/.test(limits.max_amount))
      return invalid('Missing required param: usage_limits[max_amount].', {
        code: 'parameter_missing',
        param: 'usage_limits[max_amount]',
      })
    if (
      limits.expires_at !== undefined &&
      (typeof limits.expires_at !== 'string' || !/^[0-9]+$/.test(limits.expires_at))
    )
      return invalid('Invalid integer', { code: 'parameter_invalid_integer', param: 'usage_limits[expires_at]' })
    return undefined
  }

  function issueFromForm(ctx: Context): Outcome {
    const limits = ctx.params.usage_limits as Record<string, string>
    const expiresAt = limits.expires_at === undefined ? nowSeconds() + 3600 : Number(limits.expires_at)
    return {
      status: 200,
      body: issue(ctx.params.payment_method as string, Number(limits.max_amount), limits.currency!, expiresAt),
    }
  }

  // ---- refunds (research/stripe.md §3; error wording as Stripe's API answers it) ------------

  function chargeOf(intent: FakePaymentIntent): FakeCharge | undefined {
    if (intent.latest_charge === null) return undefined
    const paid = intent.status === 'succeeded'
    return {
      id: intent.latest_charge,
      object: 'charge',
      amount: intent.amount,
      amount_captured: intent.amount_received,
      amount_refunded: intent.amount_refunded,
      refunded: paid && intent.amount_refunded >= intent.amount_received,
      captured: paid,
      paid,
      status: paid ? 'succeeded' : intent.status === 'processing' ? 'pending' : 'failed',
      currency: intent.currency,
      payment_intent: intent.id,
      created: intent.created,
    }
  }

  const intentOfCharge = (chargeId: string) =>
    [...paymentIntents.values()].find((intent) => intent.latest_charge === chargeId)

  /** `GET /v1/payment_intents/:id`, with `expand[]=latest_charge` honoured */
  function retrieveIntent(ctx: Context, id: string): Outcome {
    const intent = paymentIntents.get(id)
    const expand = parseForm(ctx.query.toString()).expand
    if (!intent || !Array.isArray(expand) || !expand.includes('latest_charge'))
      return found(intent, 'payment_intent', id)
    return { status: 200, body: { ...intent, latest_charge: chargeOf(intent) ?? null } }
  }

  function validateRefund(ctx: Context): Outcome | undefined {
    for (const name of Object.keys(ctx.params))
      if (!REFUND_PARAMS.has(name))
        return invalid(`Received unknown parameter: ${name}`, { code: 'parameter_unknown', param: name })
    const { payment_intent: intentId, charge, amount, reason, metadata } = ctx.params
    // The fake's wording: Stripe's is unobserved.
    if (intentId === undefined && charge === undefined)
      return invalid('One of payment_intent or charge is required.', { code: 'parameter_missing' })
    for (const [name, value] of [
      ['payment_intent', intentId],
      ['charge', charge],
    ] as const)
      if (value !== undefined && (typeof value !== 'string' || value === ''))
        return invalid(`Invalid string: ${String(value)}`, { code: 'parameter_invalid_string', param: name })
    if (amount !== undefined) {
      if (typeof amount !== 'string' || !/^-?[0-9]+$/.test(amount))
        return invalid(`Invalid integer: ${String(amount)}`, { code: 'parameter_invalid_integer', param: 'amount' })
      if (Number(amount) < 1)
        return invalid('Invalid positive integer', { code: 'parameter_invalid_integer', param: 'amount' })
      if (Number(amount) > 99_999_999)
        return invalid('Amount must be no more than $999,999.99', { code: 'amount_too_large', param: 'amount' })
    }
    if (reason !== undefined && (typeof reason !== 'string' || !REFUND_REASONS.includes(reason)))
      return invalid('Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer', {
        param: 'reason',
      })
    return invalidMetadata(metadata)
  }

  /** Refunds what is asked (default: all that is left) of the intent's charge, never more than it received. */
  function createRefund(ctx: Context): Outcome {
    const { payment_intent: intentId, charge: chargeId, amount, reason, metadata } = ctx.params
    let intent: FakePaymentIntent | undefined
    if (typeof intentId === 'string') {
      intent = paymentIntents.get(intentId)
      if (!intent)
        return invalid(
          `No such payment_intent: '${intentId}'`,
          { code: 'resource_missing', param: 'payment_intent' },
          404,
        )
      if (typeof chargeId === 'string' && chargeId !== intent.latest_charge)
        return invalid(`Charge ${chargeId} does not belong to PaymentIntent ${intentId}.`, { param: 'charge' })
    } else {
      intent = intentOfCharge(chargeId as string)
      if (!intent)
        return invalid(`No such charge: '${String(chargeId)}'`, { code: 'resource_missing', param: 'charge' }, 404)
    }
    if (intent.status !== 'succeeded' || intent.latest_charge === null)
      return invalid(`This PaymentIntent (${intent.id}) does not have a successful charge to refund.`)
    const left = intent.amount_received - intent.amount_refunded
    if (left <= 0)
      return invalid(`Charge ${intent.latest_charge} has already been refunded.`, { code: 'charge_already_refunded' })
    const value = typeof amount === 'string' ? Number(amount) : left
    // Stripe sends no code with this one, only the param.
    if (value > left)
      return invalid(
        `Refund amount (${money(value, intent.currency)}) is greater than unrefunded amount on charge (${money(left, intent.currency)})`,
        { param: 'amount' },
      )
    const refund: FakeRefund = {
      id: newId('re'),
      object: 'refund',
      amount: value,
      currency: intent.currency,
      payment_intent: intent.id,
      charge: intent.latest_charge,
      created: nowSeconds(),
      metadata: typeof metadata === 'object' && !Array.isArray(metadata) ? (metadata as Record<string, string>) : {},
      reason: typeof reason === 'string' ? (reason as RefundReason) : null,
      status: 'succeeded',
      balance_transaction: newId('txn'),
    }
    refunds.set(refund.id, refund)
    intent.amount_refunded += value
    return { status: 200, body: refund }
  }

  /** newest first, filtered by `payment_intent` and `charge` */
  function listRefunds(ctx: Context): Outcome {
    const intentId = ctx.query.get('payment_intent')
    const chargeId = ctx.query.get('charge')
    const limit = Number(ctx.query.get('limit') ?? '10')
    const matching = [...refunds.values()]
      .filter(
        (r) => (intentId === null || r.payment_intent === intentId) && (chargeId === null || r.charge === chargeId),
      )
      .reverse()
    const data = matching.slice(0, limit)
    return { status: 200, body: { object: 'list', url: '/v1/refunds', has_more: matching.length > data.length, data } }
  }

  const refundsOf = (intentId: string) => [...refunds.values()].filter((r) => r.payment_intent === intentId)

  // ---- routing -----------------------------------------------------------------------------

  type Route = {
    validate?: (ctx: Context) => Outcome | undefined
    execute: (ctx: Context, id: string) => Outcome
    previewOnly?: boolean
  }

  function route(method: string, path: string): { route: Route; id: string } | undefined {
    let m: RegExpExecArray | null
    if (method === 'POST' && path === '/v1/payment_intents')
      return { route: { validate: validatePaymentIntent, execute: createPaymentIntent }, id: '' }
    if (method === 'GET' && path === '/v1/crypto/deposit_addresses')
      return { id: '', route: { previewOnly: true, execute: listDepositAddresses } }
    if (method === 'POST' && path === '/v1/crypto/deposit_addresses')
      return { id: '', route: { previewOnly: true, execute: createDepositAddress } }
    if (
      method === 'POST' &&
      (m = /^\/v1\/test_helpers\/payment_intents\/([^/]+)\/simulate_crypto_deposit$/.exec(path))
    ) {
      return {
        id: m[1]!,
        route: {
          validate: (ctx) =>
            typeof ctx.params.transaction_hash === 'string'
              ? undefined
              : invalid('Missing required param: transaction_hash.', {
                  code: 'parameter_missing',
                  param: 'transaction_hash',
                }),
          execute: (ctx, id) => simulateDeposit(id, ctx.params.transaction_hash as string),
        },
      }
    }
    if (method === 'GET' && path === '/v1/payment_intents') return { id: '', route: { execute: listPaymentIntents } }
    if (method === 'GET' && (m = /^\/v1\/payment_intents\/([^/]+)$/.exec(path))) {
      return { id: m[1]!, route: { execute: retrieveIntent } }
    }
    if (method === 'POST' && path === '/v1/refunds')
      return { id: '', route: { validate: validateRefund, execute: createRefund } }
    if (method === 'GET' && path === '/v1/refunds') return { id: '', route: { execute: listRefunds } }
    if (method === 'GET' && (m = /^\/v1\/refunds\/([^/]+)$/.exec(path)))
      return { id: m[1]!, route: { execute: (_ctx, id) => found(refunds.get(id), 'refund', id) } }
    if (method === 'GET' && (m = /^\/v1\/charges\/([^/]+)$/.exec(path))) {
      return {
        id: m[1]!,
        route: {
          execute: (_ctx, id) => {
            const intent = intentOfCharge(id)
            return found(intent && chargeOf(intent), 'charge', id)
          },
        },
      }
    }
    if (method === 'GET' && (m = /^\/v1\/shared_payment\/granted_tokens\/([^/]+)$/.exec(path))) {
      return {
        id: m[1]!,
        route: { previewOnly: true, execute: (_ctx, id) => found(tokenNow(id), 'shared_payment.granted_token', id) },
      }
    }
    if (method === 'POST' && path === '/v1/test_helpers/shared_payment/granted_tokens')
      return { id: '', route: { previewOnly: true, validate: validateIssue, execute: issueFromForm } }
    if (method === 'POST' && (m = /^\/v1\/test_helpers\/shared_payment\/granted_tokens\/([^/]+)\/revoke$/.exec(path))) {
      return {
        id: m[1]!,
        route: {
          previewOnly: true,
          execute: (_ctx, id) => {
            const token = tokenNow(id)
            if (token) deactivate(token, 'revoked')
            return found(token, 'shared_payment.granted_token', id)
          },
        },
      }
    }
    return undefined
  }

  const tokenNow = (id: string) => {
    const token = tokens.get(id)
    return token ? current(token) : undefined
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const method = req.method ?? 'GET'
    const [path = '/', query = ''] = (req.url ?? '/').split(/\?(.*)/s)
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(req.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
    const form: Record<string, string> = {}
    for (const [k, v] of new URLSearchParams(body)) form[k] = v
    const params = parseForm(body)
    requests.push({ method, path, query, headers, body, form, params })

    const requestId = newId('req')
    const version = headers['stripe-version']
    const send = (outcome: Outcome, extra: Record<string, string> = {}) => {
      if (res.destroyed || res.writableEnded) return
      const payload = JSON.stringify(outcome.body)
      res.writeHead(outcome.status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(payload),
        'Request-Id': requestId,
        ...(version ? { 'Stripe-Version': version } : {}),
        ...(headers['idempotency-key'] && method === 'POST' ? { 'Idempotency-Key': headers['idempotency-key'] } : {}),
        ...extra,
      })
      res.end(payload)
    }

    // Test helpers stay out of the fault knobs, so a test can set state up while faults are armed.
    const faultable = !path.startsWith('/v1/test_helpers/')
    if (faultable && faults.down) {
      req.socket.destroy()
      return
    }
    if (faultable && faults.dropConnectionNext > 0) {
      faults.dropConnectionNext--
      req.socket.destroy()
      return
    }
    const delay = faultable ? faults.delayMs : 0
    if (faultable && faults.status500Next > 0) {
      faults.status500Next--
      await sleep(delay)
      return send({ status: 500, body: { error: { type: 'api_error', message: 'An unknown error occurred' } } })
    }

    // Checks before execution: nothing is saved under the idempotency key for these.
    const early = (outcome: Outcome) => sleep(delay).then(() => send(outcome))
    const apiKey = apiKeyOf(headers.authorization)
    if (apiKey === undefined) {
      return early({
        status: 401,
        body: {
          error: {
            type: 'invalid_request_error',
            message:
              "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
          },
        },
      })
    }
    if (!keyIsValid(apiKey))
      return early({
        status: 401,
        body: { error: { type: 'invalid_request_error', message: `Invalid API Key provided: ${maskKey(apiKey)}` } },
      })
    const matched = route(method, path)
    const previewMissing = matched?.route.previewOnly && !version?.endsWith('.preview')
    if (!matched || previewMissing)
      return early(
        invalid(
          `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
          {},
          404,
        ),
      )
    // The SDK always sends one; a request without it would silently get the account's default.
    if (method === 'POST' && !version) return early(invalid('The fake Stripe requires a Stripe-Version header.'))
    const ctx: Context = { method, path, query: new URLSearchParams(query), version, form, params }
    const invalidParams = matched.route.validate?.(ctx)
    if (invalidParams) return early(invalidParams)

    const key = method === 'POST' ? headers['idempotency-key'] : undefined
    if (key === undefined) {
      await sleep(delay)
      return send(matched.route.execute(ctx, matched.id))
    }
    if (key.length > 255)
      return early(
        invalid('Keys for idempotent requests can only be 255 characters long.', { param: 'idempotency_key' }),
      )
    // Keys are scoped to the account, here the API key.
    const scoped = `${apiKey}\n${key}`
    const fingerprint = `${method} ${path}\n${Object.entries(form)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&')}`
    const saved = idempotency.get(scoped)
    if (saved) {
      if (saved.fingerprint !== fingerprint) {
        return early({
          status: 400,
          body: {
            error: {
              type: 'idempotency_error',
              message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            },
          },
        })
      }
      if (saved.state === 'in_flight') {
        return early({
          status: 409,
          body: {
            error: {
              type: 'idempotency_error',
              code: 'idempotency_key_in_use',
              message:
                'There is currently another in-progress request using this idempotent key. Please try again later.',
            },
          },
        })
      }
      await sleep(delay)
      return send(saved.outcome, { 'Idempotent-Replayed': 'true', 'Original-Request': saved.requestId })
    }
    // Claimed synchronously, before any await, so concurrent duplicates see it.
    idempotency.set(scoped, { fingerprint, state: 'in_flight' })
    await sleep(delay)
    if (idempotency.get(scoped)?.state !== 'in_flight') return // reset() while waiting
    const outcome = matched.route.execute(ctx, matched.id)
    idempotency.set(scoped, {
      fingerprint,
      state: 'done',
      outcome: { status: outcome.status, body: JSON.parse(JSON.stringify(outcome.body)) },
      requestId,
    })
    send(outcome)
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((error: unknown) => {
        if (res.headersSent || res.destroyed) return
        res.writeHead(500, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify({ error: { type: 'api_error', message: `fake Stripe crashed: ${String(error)}` } }))
      })
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    paymentIntents,
    sharedPaymentTokens: tokens,
    refunds,
    refunded: (intentId) => refundsOf(intentId).reduce((sum, r) => sum + r.amount, 0),
    refundsOf,
    faults,
    charges: () => [...paymentIntents.values()].filter((pi) => pi.status === 'succeeded').length,
    depositAddresses,
    cryptoRecords: (transactionHash) =>
      [...paymentIntents.values()].filter((pi) => {
        const verification = pi.payment_method_options?.crypto.transaction_verification_options
        return (
          verification !== undefined &&
          (transactionHash === undefined ||
            verification.transaction_hash.toLowerCase() === transactionHash.toLowerCase())
        )
      }),
    depositIntentFor: (address, network = 'tempo') =>
      [...paymentIntents.values()].find((pi) => {
        const shown =
          pi.next_action?.type === 'crypto_display_details'
            ? pi.next_action.crypto_display_details.deposit_addresses[network]?.address
            : undefined
        return (shown ?? depositShown.get(pi.id))?.toLowerCase() === address.toLowerCase()
      }),
    simulateCryptoDeposit(id, transactionHash, settleAs) {
      const outcome = simulateDeposit(id, transactionHash, settleAs)
      if (outcome.status !== 200) throw new Error(`fake Stripe: ${JSON.stringify(outcome.body)}`)
      return outcome.body as FakePaymentIntent
    },
    async issueSpt({ paymentMethod = 'pm_card_visa', maxAmount, currency, expiresAt }) {
      if (!(paymentMethod in PAYMENT_METHODS))
        throw new Error(`fake Stripe: unknown test PaymentMethod ${paymentMethod}`)
      return issue(paymentMethod, maxAmount, currency.toLowerCase(), expiresAt ?? nowSeconds() + 3600).id
    },
    reset() {
      requests.length = 0
      paymentIntents.clear()
      tokens.clear()
      idempotency.clear()
      depositAddresses.clear()
      refunds.clear()
      Object.assign(faults, { status500Next: 0, delayMs: 0, dropConnectionNext: 0, down: false })
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Parses `a[b][c]=v` form keys into nested objects; `a[]=v` and `a[0]=v` into arrays. */
export function parseForm(body: string): FormObject {
  const root: FormObject = {}
  for (const [key, value] of new URLSearchParams(body)) {
    const head = /^[^[]*/.exec(key)![0]
    const path = [head, ...Array.from(key.slice(head.length).matchAll(/\[([^\]]*)\]/g), (m) => m[1]!)]
    if (path.some((p) => p === '__proto__' || p === 'constructor' || p === 'prototype')) continue
    let node: FormObject = root
    for (let i = 0; i < path.length; i++) {
      // `[]` appends: give it the next free index, arrays are made at the end
      const segment = path[i] === '' && i > 0 ? String(Object.keys(node).length) : path[i]!
      if (i === path.length - 1) {
        node[segment] = value
      } else {
        const next = node[segment]
        node = typeof next === 'object' && !Array.isArray(next) ? next : (node[segment] = {})
      }
    }
  }
  return arraysOf(root) as FormObject
}

function arraysOf(value: FormValue): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value
  const keys = Object.keys(value)
  const converted: FormObject = {}
  for (const k of keys) converted[k] = arraysOf(value[k]!)
  if (keys.length > 0 && keys.every((k, i) => k === String(i))) return keys.map((k) => converted[k]!)
  return converted
}

function apiKeyOf(authorization: string | undefined): string | undefined {
  const match = /^(\S+)\s+(\S+)$/.exec(authorization?.trim() ?? '')
  if (!match) return undefined
  const [, scheme, value] = match
  if (/^bearer$/i.test(scheme!)) return value
  // Basic base64("sk_...:"), as raw-fetch clients (mppx) send it
  if (/^basic$/i.test(scheme!)) return Buffer.from(value!, 'base64').toString('utf8').split(':')[0] || undefined
  return undefined
}

function maskKey(key: string): string {
  return key.length > 12 ? `${key.slice(0, 3)}***${key.slice(-4)}` : `${key.slice(0, 3)}***`
}

function invalidMetadata(metadata: FormValue | undefined): Outcome | undefined {
  if (metadata === undefined) return undefined
  if (typeof metadata !== 'object' || Array.isArray(metadata))
    return invalid('Invalid object', { code: 'parameter_invalid_empty', param: 'metadata' })
  const entries = Object.entries(metadata)
  if (entries.length > 50) return invalid('Metadata can have up to 50 keys.', { param: 'metadata' })
  for (const [key, value] of entries) {
    if (key.length > 40)
      return invalid(
        `Metadata keys can have up to 40 characters, but you passed in a key that is ${key.length} characters.`,
        { param: `metadata[${key}]` },
      )
    if (typeof value !== 'string' || value.length > 500)
      return invalid(
        `Metadata values can have up to 500 characters, but you passed in a value that is ${String(value).length} characters.`,
        { param: `metadata[${key}]` },
      )
  }
  return undefined
}

const CURRENCY_SIGNS: Record<string, string> = { usd: '$', eur: '€', gbp: '£' }

/** An amount as Stripe writes it in refund messages: `$6.00` (two-decimal currencies only) */
function money(minor: number, currency: string): string {
  const major = (minor / 100).toFixed(2)
  const sign = CURRENCY_SIGNS[currency]
  return sign ? `${sign}${major}` : `${major} ${currency.toUpperCase()}`
}

function invalid(message: string, extra: { code?: string; param?: string } = {}, status = 400): Outcome {
  return { status, body: { error: { type: 'invalid_request_error', ...extra, message } } }
}

function found(object: object | undefined, name: string, id: string): Outcome {
  return object
    ? { status: 200, body: object }
    : invalid(`No such ${name}: '${id}'`, { code: 'resource_missing', param: 'id' }, 404)
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
