import { Signature } from 'ox'
import { TxEnvelopeTempo } from 'ox/tempo'
import type { LocalAccount } from 'viem'
import type { Address, Hex, TempoFeePayerConfig } from '../../config/types.js'
import { PaymentRefused } from '../../core/method.js'
import type { PaymentTransaction } from './transaction.js'

/** Gas prices are in attodollars; a TIP-20 base unit is 1e-6 USD (tempo-testing §3, fee units). */
const ATTODOLLARS_PER_BASE_UNIT = 10n ** 12n

const refuse = (detail: string) =>
  new PaymentRefused('verification-failed', `The gateway does not sponsor this transaction: ${detail}`)

/**
 * The limits within which the gateway co-signs as fee payer, so no payer can make it pay more
 * than `maxFee` for one transaction, or pay for anything but the transfers it checked.
 */
export function checkSponsorable(tx: PaymentTransaction, limits: TempoFeePayerConfig): void {
  const { gas, maxFeePerGas } = tx.envelope
  if (gas === undefined || gas === 0n) throw refuse('it sets no gas limit.')
  if (gas > limits.maxGas) throw refuse(`its gas limit ${gas} is above ${limits.maxGas}.`)
  if (maxFeePerGas === undefined || maxFeePerGas === 0n) throw refuse('it sets no maxFeePerGas.')
  if (maxFeePerGas > limits.maxFeePerGas)
    throw refuse(`its maxFeePerGas ${maxFeePerGas} is above ${limits.maxFeePerGas}.`)
  const worstCase = ceilDiv(gas * maxFeePerGas, ATTODOLLARS_PER_BASE_UNIT)
  if (worstCase > limits.maxFee)
    throw refuse(`it could cost up to ${worstCase} fee-token base units; the limit is ${limits.maxFee}.`)
  // Each of these makes the node do (and the sponsor pay for) work beyond the transfers.
  if (tx.envelope.keyAuthorization) throw refuse('it provisions an access key.')
  if (tx.envelope.authorizationList?.length) throw refuse('it carries an authorization list.')
  if (tx.envelope.accessList?.length) throw refuse('it carries an access list.')
}

/**
 * Adds the fee payer's signature (draft-tempo-charge §Server-Paid Fees): it commits to the fee
 * token and to the sender recovered from the sender's signature. The result is the final 0x76
 * transaction to broadcast.
 */
export async function cosign(tx: PaymentTransaction, sponsor: LocalAccount, feeToken: Address): Promise<Hex> {
  const envelope = TxEnvelopeTempo.from({ ...tx.envelope, feeToken, feePayerSignature: null })
  const payload = TxEnvelopeTempo.getFeePayerSignPayload(envelope, { sender: tx.sender })
  const signature = await sponsor.sign!({ hash: payload })
  return TxEnvelopeTempo.serialize(envelope, { feePayerSignature: Signature.from(signature) })
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b
}
