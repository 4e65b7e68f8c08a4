import type Stripe from 'stripe'
import { getAddress } from 'viem'
import type { Address, StripeMethodConfig } from '../../../config/types.js'
import { BackendUnavailable, PaymentRefused } from '../../../core/method.js'
import { classifyError, createClient, redactSecrets } from '../../stripe/charge.js'

/** A Stripe crypto deposit address on one network, and the tokens it accepts there. */
export interface DepositAddress {
  readonly address: Address
  /** token contract addresses, in Stripe's order */
  readonly tokens: readonly Address[]
}

export interface DepositIntent {
  readonly id: string
  readonly status: string
  /** in cents */
  readonly amount: number
  readonly currency: string
  /** the deposit address of the network, while Stripe still shows it (`requires_action`) */
  readonly deposit?: DepositAddress
}

/** What a transaction-verification PaymentIntent records: one on-chain payment into the Stripe balance. */
export interface CryptoRecord {
  readonly transactionHash: string
  /** in cents */
  readonly amount: number
  readonly metadata: Readonly<Record<string, string>>
}

/**
 * The Stripe crypto calls the deposit rail makes (research/stripe.md §4), all with the preview
 * `cryptoApiVersion` and, for Connect, the configured `Stripe-Account`. None of them is typed in
 * the GA SDK, so responses are read defensively. Every failure is a `BackendUnavailable`: a
 * refusal here is the gateway's account or configuration, never the payer's doing.
 */
export interface StripeCrypto {
  /** `GET /v1/crypto/deposit_addresses`, else `POST` to create one */
  findOrCreateDepositAddress(network: string): Promise<DepositAddress>
  /** a deposit-mode PaymentIntent: Stripe shows an address per network and captures what arrives there */
  createDepositIntent(network: string, amountCents: number, metadata: Record<string, string>): Promise<DepositIntent>
  retrieveIntent(id: string, network: string): Promise<DepositIntent>
  /** a transaction-verification PaymentIntent, idempotent by transaction hash; `replayed` when Stripe had it already */
  recordTransaction(network: string, record: CryptoRecord): Promise<{ id: string; status: string; replayed: boolean }>
}

export function createStripeCrypto(config: StripeMethodConfig): StripeCrypto {
  const stripe = createClient(config)
  const options = { apiVersion: config.cryptoApiVersion, ...(config.account ? { stripeAccount: config.account } : {}) }
  const redact = (text: string) => redactSecrets(text, [config.secretKey])

  async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      const classified = classifyError(error, config.timeoutMs, redact)
      if (classified instanceof PaymentRefused)
        throw new BackendUnavailable('stripe', `Stripe refused the ${what}: ${classified.detail}`)
      if (classified instanceof BackendUnavailable)
        throw new BackendUnavailable('stripe', `${classified.detail} (${what})`)
      throw new BackendUnavailable('stripe', `The ${what} failed: ${redact(classified.message)}`)
    }
  }

  async function findOrCreateDepositAddress(network: string): Promise<DepositAddress> {
    const list = await call('deposit address lookup', () =>
      stripe.rawRequest(
        'GET',
        `/v1/crypto/deposit_addresses?network=${encodeURIComponent(network)}&limit=1`,
        undefined,
        options,
      ),
    )
    const found = readDepositAddress(Array.isArray(list?.data) ? list.data[0] : undefined)
    if (found) return found
    const created = await call('deposit address creation', () =>
      stripe.rawRequest('POST', '/v1/crypto/deposit_addresses', { network }, options),
    )
    const address = readDepositAddress(created)
    if (!address)
      throw new BackendUnavailable('stripe', 'Stripe created a deposit address without a usable address or token.')
    return address
  }

  async function createDepositIntent(
    network: string,
    amountCents: number,
    metadata: Record<string, string>,
  ): Promise<DepositIntent> {
    const params = {
      amount: amountCents,
      currency: 'usd',
      confirm: true,
      payment_method_types: ['crypto'],
      payment_method_data: { type: 'crypto' },
      payment_method_options: { crypto: { mode: 'deposit', deposit_options: { networks: [network] } } },
      metadata,
    }
    // One intent per 402, so no idempotency key of ours: the SDK's own keys a retry of this very call.
    const intent = await call('deposit PaymentIntent creation', () =>
      stripe.paymentIntents.create(params as unknown as Stripe.PaymentIntentCreateParams, options),
    )
    const read = readIntent(intent, network)
    if (!read.deposit)
      throw new BackendUnavailable(
        'stripe',
        `Stripe's deposit PaymentIntent ${read.id} shows no ${network} deposit address (is the crypto payment method enabled with deposit mode?).`,
      )
    return read
  }

  async function retrieveIntent(id: string, network: string): Promise<DepositIntent> {
    return readIntent(
      await call('PaymentIntent lookup', () => stripe.paymentIntents.retrieve(id, {}, options)),
      network,
    )
  }

  async function recordTransaction(network: string, record: CryptoRecord) {
    const params = {
      amount: record.amount,
      currency: 'usd',
      confirm: true,
      payment_method_types: ['crypto'],
      payment_method_data: { type: 'crypto' },
      payment_method_options: {
        crypto: {
          mode: 'transaction_verification',
          transaction_verification_options: { network, transaction_hash: record.transactionHash },
        },
      },
      metadata: { ...record.metadata },
    }
    // The hash is the key: however often this is retried, Stripe records the payment once.
    const intent = await call('payment record', () =>
      stripe.paymentIntents.create(params as unknown as Stripe.PaymentIntentCreateParams, {
        ...options,
        idempotencyKey: record.transactionHash,
      }),
    )
    return {
      id: intent.id,
      status: intent.status,
      replayed: intent.lastResponse?.headers?.['idempotent-replayed'] === 'true',
    }
  }

  return { findOrCreateDepositAddress, createDepositIntent, retrieveIntent, recordTransaction }
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/

/** `{ address, supported_tokens: [{ token_currency, token_contract_address }] }`, or undefined when unusable. */
function readDepositAddress(value: unknown): DepositAddress | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { address, supported_tokens: supported } = value as { address?: unknown; supported_tokens?: unknown }
  if (typeof address !== 'string' || !ADDRESS.test(address)) return undefined
  const tokens = (Array.isArray(supported) ? supported : [])
    .map((t: unknown) =>
      typeof t === 'object' && t !== null
        ? (t as { token_contract_address?: unknown }).token_contract_address
        : undefined,
    )
    .filter((t): t is string => typeof t === 'string' && ADDRESS.test(t))
    .map((t) => getAddress(t))
  if (tokens.length === 0) return undefined
  return { address: getAddress(address), tokens }
}

function readIntent(intent: Stripe.PaymentIntent, network: string): DepositIntent {
  const action = intent.next_action as unknown as {
    crypto_display_details?: { deposit_addresses?: Record<string, unknown> }
  } | null
  const deposit = readDepositAddress(action?.crypto_display_details?.deposit_addresses?.[network])
  return {
    id: intent.id,
    status: intent.status,
    amount: intent.amount,
    currency: intent.currency,
    ...(deposit ? { deposit } : {}),
  }
}
