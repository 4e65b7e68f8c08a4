import { TxEnvelopeTempo } from 'ox/tempo'
import { keccak256, type LocalAccount, type TransactionReceipt } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { TIP20_DECIMALS, toBaseUnits } from '../../config/amount.js'
import type { Address, DecimalAmount, Hex, RouteConfig, TempoMethodConfig } from '../../config/types.js'
import {
  BackendUnavailable,
  type ChargeRequest,
  type PaymentMethod,
  PaymentRefused,
  type Quote,
  type SettleInput,
  type Settlement,
} from '../../core/method.js'
import { checkSponsorable, cosign } from './fee-payer.js'
import {
  checkGasCoversEstimate,
  InFlightBudget,
  payerLockKey,
  refuseSponsorship,
  simulationRefusal,
} from './sponsor-guard.js'
import { payerAddress } from './payer-did.js'
import * as Proof from './proof.js'
import { transfersFromLogs } from './receipt-logs.js'
import { createTempoRpc, type TempoRpc } from './rpc.js'
import { type DepositRecipient, UNITS_PER_CENT } from './stripe-deposit/recipient.js'
import * as Transaction from './transaction.js'
import { type Binding, matchTransfers, type RequiredTransfer } from './transfers.js'

/**
 * How far a transaction's `validBefore` may lie past the challenge expiry. mppx clients sign
 * `min(now + 25 s, expires)` in whole seconds; the allowance absorbs rounding and clock skew
 * between payer and gateway, and stays well inside the node's expiring-nonce window.
 */
export const VALID_BEFORE_ALLOWANCE_SECONDS = 30
const SPLITS_MAX = 10

/** A route's charge in token base units: what `quote` advertises and `settle` enforces. */
interface TempoCharge {
  readonly amount: bigint
  readonly splits: ReadonlyArray<{ readonly recipient: Address; readonly amount: bigint; readonly memo?: Hex }>
}

export interface TempoMethodOptions {
  /** the JSON-RPC edge; defaults to viem over HTTP at `config.rpcUrl` */
  readonly rpc?: TempoRpc
  /** unix ms */
  readonly now?: () => number
  /** with `stripeDeposit`: where payments go and how they are squared with Stripe */
  readonly deposit?: (rpc: TempoRpc, now: () => number) => DepositRecipient
}

/**
 * The `tempo` payment method, intent `charge` (draft-tempo-charge-00): TIP-20 transfers on Tempo,
 * in pull mode (the gateway broadcasts the payer's signed transaction, optionally paying its
 * fees), push mode (the payer broadcast it; the gateway checks the receipt) and zero-amount proofs.
 */
export function createTempoMethod(
  config: TempoMethodConfig,
  gatewayCurrency: string,
  options: TempoMethodOptions = {},
): PaymentMethod {
  const rpc = options.rpc ?? createTempoRpc(config.rpcUrl, config.timeoutMs)
  const now = options.now ?? Date.now
  const sponsor: LocalAccount | undefined = config.feePayer && privateKeyToAccount(config.feePayer.privateKey)
  const charges = new WeakMap<RouteConfig, TempoCharge>()
  const sponsorBudget = config.feePayer && new InFlightBudget(config.feePayer.maxInFlight)
  if (config.stripeDeposit && !options.deposit)
    throw new Error('tempo: a Stripe deposit recipient needs the Stripe crypto client')
  const deposit = config.stripeDeposit && options.deposit?.(rpc, now)

  function chargeFor(amount: DecimalAmount, route: RouteConfig): TempoCharge | string {
    if (gatewayCurrency !== 'usd') return `TIP-20 stablecoins are USD; route prices are in ${gatewayCurrency}`
    const units = toBaseUnits(amount, TIP20_DECIMALS)
    if (units === undefined)
      return `TIP-20 tokens have ${TIP20_DECIMALS} decimals, so ${amount.text} cannot be charged exactly`
    if (deposit) {
      // Stripe books deposits in whole cents of USD.
      if (units < UNITS_PER_CENT)
        return `a Stripe deposit address takes at least one cent (0.01); ${amount.text} is less`
      if (units % UNITS_PER_CENT !== 0n) return `Stripe records deposits in whole cents; ${amount.text} is not`
      if (route.splits?.length)
        return 'a Stripe deposit address receives the whole price; splits to other recipients are not supported'
    }
    const splits: Array<TempoCharge['splits'][number]> = []
    for (const split of route.splits ?? []) {
      const splitUnits = toBaseUnits(split.amount, TIP20_DECIMALS)
      if (splitUnits === undefined || splitUnits <= 0n)
        return `split amount ${split.amount.text} is not a positive whole number of ${TIP20_DECIMALS}-decimal base units`
      splits.push({ recipient: split.recipient, amount: splitUnits, ...(split.memo ? { memo: split.memo } : {}) })
    }
    if (splits.length > SPLITS_MAX) return `at most ${SPLITS_MAX} splits are supported`
    if (splits.length > 0 && splits.reduce((sum, s) => sum + s.amount, 0n) >= units)
      return 'the splits must add up to less than the price'
    return { amount: units, splits }
  }

  function quote(amount: DecimalAmount, route: RouteConfig): Quote {
    const charge = chargeFor(amount, route)
    if (typeof charge === 'string') return { ok: false, reason: charge }
    charges.set(route, charge)
    const methodDetails: Record<string, unknown> = { chainId: config.chainId }
    if (charge.amount > 0n) {
      if (config.feePayer) methodDetails.feePayer = true
      if (charge.splits.length > 0)
        methodDetails.splits = charge.splits.map((s) => ({
          amount: s.amount.toString(),
          recipient: s.recipient,
          ...(s.memo ? { memo: s.memo } : {}),
        }))
      // draft-tempo-charge §Submission Modes: omitted only when both are supported.
      if (config.modes.length === 1) methodDetails.supportedModes = [...config.modes]
    }
    // With a deposit recipient, `issue` fills in the address (and Stripe's token) per 402.
    const request: ChargeRequest = {
      amount: charge.amount.toString(),
      currency: config.stripeDeposit?.currency ?? config.currency,
      ...(config.recipient ? { recipient: config.recipient } : {}),
      methodDetails,
    }
    if (route.description !== undefined) request.description = route.description
    return { ok: true, request }
  }

  async function settle(input: SettleInput): Promise<Settlement> {
    const charge = charges.get(input.route)
    // settle only sees routes this method quoted; anything else is a gateway bug.
    if (!charge) throw new Error(`tempo: route ${input.route.match} was never quoted`)
    const payload = readPayload(input.payload)
    const binding: Binding = { realm: input.realm, challengeId: input.challengeId }
    // The echoed request: the configured recipient and token, or the deposit address and token issued for this challenge.
    const recipient = input.request.recipient as Address | undefined
    const currency = input.request.currency as Address
    if (!recipient) throw new Error(`tempo: the request of route ${input.route.match} has no recipient`)
    await deposit?.precheck(input)

    if (charge.amount === 0n) {
      if (payload.type !== 'proof')
        throw new PaymentRefused(
          'invalid-payload',
          'This is a zero-amount charge: pay it with a type="proof" credential (draft-tempo-charge §Proof Payload).',
        )
      return settleProof(payload.signature, input)
    }
    const required: RequiredTransfer[] = [
      { to: recipient, amount: charge.amount - charge.splits.reduce((sum, s) => sum + s.amount, 0n), memo: 'bound' },
      ...charge.splits.map((s) => ({ to: s.recipient, amount: s.amount, ...(s.memo ? { memo: s.memo } : {}) })),
    ]
    if (payload.type === 'proof')
      throw new PaymentRefused('invalid-payload', 'type="proof" credentials are only for zero-amount charges.')
    const paid =
      payload.type === 'transaction'
        ? await settlePull(payload.signature, input, currency, required, binding)
        : await settlePush(payload.hash, input, currency, required, binding)
    await deposit?.confirm(input, paid, required[0]!.amount)
    return { reference: paid.transactionHash.toLowerCase() }
  }

  async function settleProof(signature: string, input: SettleInput): Promise<Settlement> {
    if (input.source === undefined)
      throw new PaymentRefused(
        'invalid-payload',
        'A proof credential needs a source (did:pkh:eip155:<chainId>:<address>).',
      )
    const payer = payerAddress(input.source, config.chainId)
    const valid = await Proof.verify(signature, {
      payer,
      chainId: config.chainId,
      challengeId: input.challengeId,
      realm: input.realm,
    })
    if (!valid)
      throw new PaymentRefused(
        'verification-failed',
        'The proof signature does not recover to the source address for this challenge.',
      )
    return { reference: input.challengeId }
  }

  async function settlePull(
    serialized: string,
    input: SettleInput,
    currency: Address,
    required: RequiredTransfer[],
    binding: Binding,
  ): Promise<TransactionReceipt> {
    if (!config.modes.includes('pull'))
      throw new PaymentRefused(
        'verification-failed',
        'This gateway accepts only type="hash" (push) credentials for tempo.',
      )
    const tx = Transaction.parse(serialized)
    if (input.source !== undefined && payerAddress(input.source, config.chainId) !== tx.sender) {
      throw new PaymentRefused(
        'verification-failed',
        'The credential source is not the account that signed the transaction.',
      )
    }
    // An earlier attempt of this credential broadcast it and lost the answer: if it landed, that
    // receipt is the payment, whatever the clock says now (expiry was judged at the first claim).
    const earlier = input.redrive?.txHash as Hex | undefined
    if (earlier) {
      const landed = await rpc.getTransactionReceipt(earlier)
      if (landed) {
        checkReceipt(landed, tx.sender, currency, required, binding)
        return landed
      }
    }
    Transaction.check(tx, {
      chainId: config.chainId,
      currency,
      required,
      binding,
      nowSec: Math.floor(now() / 1000),
      latestValidBeforeSec: Math.floor(input.expiresAtMs / 1000) + VALID_BEFORE_ALLOWANCE_SECONDS,
    })

    if (!tx.wantsSponsor) {
      // Re-serialized canonically, without any embedded sender: the gateway broadcasts what it parsed.
      return broadcast(TxEnvelopeTempo.serialize(tx.envelope), tx, input, currency, required, binding)
    }
    if (!config.feePayer || !sponsor || !sponsorBudget)
      throw new PaymentRefused(
        'verification-failed',
        'This gateway does not pay transaction fees: sign with your own feeToken.',
      )
    checkSponsorable(tx, config.feePayer)
    const releaseSlot = sponsorBudget.acquire()
    try {
      // One sponsored transaction per payer at a time, across replicas: concurrent ones would all
      // pass the balance check and all but one revert at the sponsor's expense. The lock outlives
      // a crash only briefly: every RPC call below is bounded by the timeout.
      const lock = payerLockKey(tx.sender)
      if (!(await input.claimOnce(lock, now() + 4 * config.timeoutMs))) {
        throw refuseSponsorship(
          'another sponsored transaction from this payer is in flight; retry once it is included.',
        )
      }
      try {
        // A transfer that would revert still costs the sponsor its fee; refuse the obvious case first.
        const total = required.reduce((sum, r) => sum + r.amount, 0n)
        const balance = await rpc.balanceOf(currency, tx.sender)
        if (balance < total)
          throw new PaymentRefused(
            'payment-insufficient',
            `The payer holds ${balance} base units of ${currency}; the payment needs ${total}.`,
          )
        const estimate = await rpc
          .estimateGas({
            from: tx.sender,
            calls: tx.envelope.calls.map((c) => ({ to: c.to!, data: c.data ?? '0x' })),
            nonceKey: tx.envelope.nonceKey,
            feeToken: config.feePayer.feeToken,
            feePayer: sponsor.address,
          })
          .catch((error: unknown) => Promise.reject(simulationRefusal(error)))
        checkGasCoversEstimate(tx.envelope.gas ?? 0n, estimate)
        return await broadcast(
          await cosign(tx, sponsor, config.feePayer.feeToken),
          tx,
          input,
          currency,
          required,
          binding,
        )
      } finally {
        // Best effort: the lock expires on its own, and a store hiccup here must not turn a
        // broadcast payment into an error (which would release its claims as if nothing was paid).
        await input.release(lock).catch(() => undefined)
      }
    } finally {
      releaseSlot()
    }
  }

  async function broadcast(
    final: Hex,
    tx: Transaction.PaymentTransaction,
    input: SettleInput,
    currency: Address,
    required: RequiredTransfer[],
    binding: Binding,
  ): Promise<TransactionReceipt> {
    const hash = keccak256(final)
    await claimTransaction(input, hash)
    await input.settling({ txHash: hash.toLowerCase() })

    let receipt: TransactionReceipt
    try {
      receipt = await rpc.sendRawTransactionSync(final)
    } catch (error) {
      // An earlier attempt may have landed with its answer lost: then the node refuses the
      // repeat, and the chain has the receipt this claim was waiting for.
      if (!(error instanceof PaymentRefused)) throw error
      const landed = await rpc.getTransactionReceipt(hash)
      if (!landed) throw error
      receipt = landed
    }
    if (receipt.transactionHash.toLowerCase() !== hash.toLowerCase())
      throw new BackendUnavailable('tempo-rpc', 'The Tempo node returned a receipt for another transaction.')
    checkReceipt(receipt, tx.sender, currency, required, binding)
    return receipt
  }

  async function settlePush(
    hash: string,
    input: SettleInput,
    currency: Address,
    required: RequiredTransfer[],
    binding: Binding,
  ): Promise<TransactionReceipt> {
    if (!config.modes.includes('push'))
      throw new PaymentRefused(
        'verification-failed',
        'This gateway accepts only type="transaction" (pull) credentials for tempo.',
      )
    // draft-tempo-charge §Hash Settlement: servers MUST reject type="hash" on feePayer challenges.
    if (config.feePayer)
      throw new PaymentRefused(
        'verification-failed',
        'This route sponsors fees, so it accepts only type="transaction" (pull) credentials.',
      )
    if (!/^0x[0-9a-fA-F]{64}$/.test(hash))
      throw new PaymentRefused('invalid-payload', 'payload.hash must be a transaction hash: 0x and 64 hex digits.')
    const payer = input.source === undefined ? undefined : payerAddress(input.source, config.chainId)
    const receipt = await rpc.getTransactionReceipt(hash as Hex)
    if (!receipt)
      throw new PaymentRefused('verification-failed', `The Tempo node knows no included transaction ${hash}.`)
    checkReceipt(receipt, payer ?? receipt.from, currency, required, binding)
    await claimTransaction(input, hash as Hex)
    return receipt
  }

  async function claimTransaction(input: SettleInput, hash: Hex): Promise<void> {
    const claimed = await input.claimOnce(`tx:${hash.toLowerCase()}`, now() + config.txClaimTtlMs)
    if (!claimed)
      throw new PaymentRefused('verification-failed', `Transaction ${hash} has already been presented as a payment.`)
  }

  /** draft-tempo-charge §Hash Verification: success, and the transfer events from the payer on the token. */
  function checkReceipt(
    receipt: TransactionReceipt,
    payer: Address,
    currency: Address,
    required: RequiredTransfer[],
    binding: Binding,
  ): void {
    if (receipt.status !== 'success')
      throw new PaymentRefused(
        'verification-failed',
        `Transaction ${receipt.transactionHash} reverted on chain; it paid nothing.`,
      )
    const transfers = transfersFromLogs(receipt.logs).filter(
      (t) => t.token.toLowerCase() === currency.toLowerCase() && t.from?.toLowerCase() === payer.toLowerCase(),
    )
    const match = matchTransfers(transfers, required, binding, false)
    if (!match.ok)
      throw new PaymentRefused(
        match.insufficient ? 'payment-insufficient' : 'verification-failed',
        `Transaction ${receipt.transactionHash}: ${match.detail}`,
      )
  }

  async function ping(): Promise<void> {
    const chainId = await rpc.chainId()
    if (chainId !== config.chainId)
      throw new Error(`the Tempo RPC serves chain ${chainId}, not the configured ${config.chainId}`)
  }

  // bounded calls in one settlement: send and a receipt lookup, and for a sponsored pull the
  // balance and the estimate before them; and a margin for the store writes
  const settleTimeoutMs = (config.feePayer ? 4 : 2) * config.timeoutMs + 2_000
  if (!deposit) return { name: 'tempo', quote, settle, settleTimeoutMs, ping }
  return {
    name: 'tempo',
    quote,
    settle,
    settleTimeoutMs,
    ping,
    issuer: {
      fields: ['recipient', 'currency'],
      createsBackendObject: config.stripeDeposit?.shape === 'per-payment',
      issue: (quoted, route) => deposit.issue(quoted, route),
    },
    close: async () => deposit.close(),
  }
}

type Payload =
  | { type: 'transaction'; signature: string }
  | { type: 'hash'; hash: string }
  | { type: 'proof'; signature: string }

function readPayload(payload: unknown): Payload {
  const usage =
    'The tempo payload must be {type:"transaction", signature}, {type:"hash", hash} or {type:"proof", signature}.'
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    throw new PaymentRefused('invalid-payload', usage)
  const { type, signature, hash } = payload as Record<string, unknown>
  if ((type === 'transaction' || type === 'proof') && typeof signature === 'string') return { type, signature }
  if (type === 'hash' && typeof hash === 'string') return { type, hash }
  throw new PaymentRefused('invalid-payload', usage)
}
