import { SignatureEnvelope, TxEnvelopeTempo } from 'ox/tempo'
import { getAddress } from 'viem'
import type { Address, Hex } from '../../config/types.js'
import { PaymentRefused } from '../../core/method.js'
import { type Binding, matchTransfers, type RequiredTransfer, type Transfer } from './transfers.js'

/** TIP-20 selectors (tempo-testing §3). */
const TRANSFER = '0xa9059cbb'
const TRANSFER_WITH_MEMO = '0x95777d59'
const WORD = /^[0-9a-f]{64}$/
const ADDRESS_WORD = /^0{24}[0-9a-f]{40}$/

/** A payer's signed Tempo transaction from a `type="transaction"` credential, parsed and authenticated. */
export interface PaymentTransaction {
  /** the sender-signed envelope, without any embedded `from` */
  readonly envelope: TxEnvelopeTempo.TxEnvelopeTempo<true>
  /** recovered from the sender signature: never the address a 0x78 envelope carries */
  readonly sender: Address
  /**
   * the payer asks the gateway to pay the fees: the 0x78 handoff envelope mppx sends, or the
   * spec's 0x76 with a `0x00` fee-payer placeholder (draft-tempo-charge §Fee Payment)
   */
  readonly wantsSponsor: boolean
  /** one per call, in call order */
  readonly transfers: readonly Transfer[]
}

const invalid = (detail: string) => new PaymentRefused('invalid-payload', detail)

/**
 * Parses the credential's transaction and recovers its signer. Only TIP-20 `transfer` and
 * `transferWithMemo` calls are accepted: the gateway broadcasts nothing it cannot fully read.
 */
export function parse(serialized: string): PaymentTransaction {
  if (!/^0x(76|78)([0-9a-fA-F]{2})+$/.test(serialized)) {
    throw invalid(
      'payload.signature must be a signed Tempo transaction: 0x76 (or the 0x78 fee-payer handoff) followed by hex.',
    )
  }
  const handoff = serialized.slice(0, 4) === '0x78'
  let decoded: TxEnvelopeTempo.TxEnvelopeTempo
  try {
    // The 0x78 form has the same fields behind another type byte; ox reads both.
    decoded = TxEnvelopeTempo.deserialize(serialized as TxEnvelopeTempo.Serialized)
  } catch {
    throw invalid('payload.signature is not a decodable Tempo transaction.')
  }
  const { from: _embedded, ...rest } = decoded
  if (!rest.signature) throw invalid('The transaction is not signed.')
  const envelope = { ...rest, signature: rest.signature } as TxEnvelopeTempo.TxEnvelopeTempo<true>
  let sender: Address
  try {
    sender = getAddress(
      SignatureEnvelope.extractAddress({
        payload: TxEnvelopeTempo.getSignPayload(envelope),
        signature: envelope.signature,
        root: true,
      }),
    )
  } catch {
    throw invalid('The transaction signature does not recover to an address.')
  }
  const transfers = envelope.calls.map((call, index) => decodeCall(call, index))
  return { envelope, sender, wantsSponsor: handoff || envelope.feePayerSignature === null, transfers }
}

function decodeCall(call: TxEnvelopeTempo.Call, index: number): Transfer {
  const where = `Call ${index + 1}`
  if (!call.to) throw invalid(`${where} creates a contract; only TIP-20 transfers are accepted.`)
  if (call.value !== undefined && call.value !== 0n) throw invalid(`${where} sends value; TIP-20 transfers send none.`)
  const data = (call.data ?? '0x').toLowerCase()
  const selector = data.slice(0, 10)
  const words = data.slice(10).match(/.{1,64}/g) ?? []
  const expectedWords = selector === TRANSFER ? 2 : selector === TRANSFER_WITH_MEMO ? 3 : 0
  if (expectedWords === 0)
    throw invalid(`${where} is not a TIP-20 transfer or transferWithMemo (selector ${selector || 'none'}).`)
  // Canonical ABI encoding only, so what is checked is exactly what executes.
  if (words.length !== expectedWords || !words.every((w) => WORD.test(w)) || !ADDRESS_WORD.test(words[0]!)) {
    throw invalid(
      `${where} has non-canonical call data for ${selector === TRANSFER ? 'transfer' : 'transferWithMemo'}.`,
    )
  }
  const transfer: Transfer = {
    token: getAddress(call.to),
    to: getAddress(`0x${words[0]!.slice(24)}`),
    amount: BigInt(`0x${words[1]!}`),
  }
  return expectedWords === 3 ? { ...transfer, memo: `0x${words[2]!}` as Hex } : transfer
}

export interface TransactionRules {
  readonly chainId: number
  /** the TIP-20 token charged */
  readonly currency: Address
  readonly required: readonly RequiredTransfer[]
  readonly binding: Binding
  /** unix seconds */
  readonly nowSec: number
  /** the latest `validBefore` accepted, unix seconds */
  readonly latestValidBeforeSec: number
}

/**
 * Checks a parsed transaction against the charge before it is broadcast
 * (draft-tempo-charge §Transaction Verification), with call count and memo binding as local policy.
 */
export function check(tx: PaymentTransaction, rules: TransactionRules): void {
  const { envelope } = tx
  if (envelope.chainId !== rules.chainId)
    throw new PaymentRefused(
      'verification-failed',
      `The transaction is for chain ${envelope.chainId}, not ${rules.chainId}.`,
    )
  // A transaction without an end could be held and broadcast at any time; the spec wants it bounded by the challenge.
  if (envelope.validBefore === undefined || envelope.validBefore === 0)
    throw new PaymentRefused(
      'verification-failed',
      'The transaction has no validBefore; it must expire no later than the challenge.',
    )
  if (envelope.validBefore <= rules.nowSec)
    throw new PaymentRefused(
      'payment-expired',
      `The transaction expired at ${new Date(envelope.validBefore * 1000).toISOString()} (validBefore).`,
    )
  if (envelope.validBefore > rules.latestValidBeforeSec) {
    throw new PaymentRefused(
      'verification-failed',
      `The transaction's validBefore (${new Date(envelope.validBefore * 1000).toISOString()}) is later than the challenge allows (${new Date(rules.latestValidBeforeSec * 1000).toISOString()}).`,
    )
  }
  const foreign = tx.transfers.find((t) => t.token.toLowerCase() !== rules.currency.toLowerCase())
  if (foreign)
    throw new PaymentRefused(
      'verification-failed',
      `The transaction transfers token ${foreign.token}; this charge is paid in ${rules.currency}.`,
    )
  const match = matchTransfers(tx.transfers, rules.required, rules.binding, true)
  if (!match.ok)
    throw new PaymentRefused(match.insufficient ? 'payment-insufficient' : 'verification-failed', match.detail)
}
