import { Secp256k1, Signature } from 'ox'
import { AuthorizationTempo, KeyAuthorization, SignatureEnvelope, TxEnvelopeTempo } from 'ox/tempo'
import { getAddress, type Hex, maxUint256 } from 'viem'
import { describe, expect, it } from 'vitest'
import { accounts, KEYS, PATH_USD_TOKEN, signPaymentTx, transferCall } from '../../../test/support/tempo-tx.js'
import type { Address, TempoFeePayerConfig } from '../../config/types.js'
import { PaymentRefused } from '../../core/method.js'
import { encode } from './attribution-memo.js'
import { checkSponsorable, cosign } from './fee-payer.js'
import { parse } from './transaction.js'

const CHAIN_ID = 42431
const VALID_BEFORE = Math.floor(Date.now() / 1000) + 20
const FEE_TOKEN: Address = '0x20C0000000000000000000000000000000000001'
const PAY = {
  to: accounts.recipient.address,
  amount: 500_000n,
  memo: encode({ realm: 'api.example.com', challengeId: 'ch_fee' }),
}

const LIMITS: TempoFeePayerConfig = {
  privateKey: KEYS.sponsor,
  feeToken: FEE_TOKEN,
  maxGas: 200_000n,
  maxFeePerGas: 50_000_000_000n,
  maxFee: 10_000n,
  maxInFlight: 4,
}

const sponsoredTx = (options: { gas?: bigint; maxFeePerGas?: bigint } = {}) =>
  signPaymentTx({ transfers: [PAY], validBefore: VALID_BEFORE, sponsored: 'handoff', ...options })

function sponsorable(serialized: string, limits: Partial<TempoFeePayerConfig> = {}): string {
  try {
    checkSponsorable(parse(serialized), { ...LIMITS, ...limits })
    return 'sponsored'
  } catch (error) {
    if (!(error instanceof PaymentRefused)) throw error
    expect(error.problem).toBe('verification-failed')
    return error.detail
  }
}

/** A sponsored (0x78) payment carrying one extra Tempo field the signPaymentTx fixture has no option for. */
async function sponsoredWith(extra: Partial<TxEnvelopeTempo.TxEnvelopeTempo>): Promise<Hex> {
  const envelope = TxEnvelopeTempo.from({
    chainId: CHAIN_ID,
    calls: [transferCall(PAY)],
    gas: 160_000n,
    maxFeePerGas: 40_000_000_000n,
    maxPriorityFeePerGas: 0n,
    nonceKey: maxUint256,
    nonce: 1n,
    validBefore: VALID_BEFORE,
    feePayerSignature: null,
    ...extra,
  })
  const signature = SignatureEnvelope.from(
    Signature.fromHex(await accounts.payer.sign({ hash: TxEnvelopeTempo.getSignPayload(envelope) })),
  )
  return TxEnvelopeTempo.serialize(envelope, { signature, format: 'feePayer', sender: accounts.payer.address })
}

const signedBy = async (payload: Hex) =>
  SignatureEnvelope.from(Signature.fromHex(await accounts.payer.sign({ hash: payload })))

describe('checkSponsorable', () => {
  it('sponsors a transfer within the limits', async () => {
    // 160 000 gas × 40e9 attodollars = 6 400 base units at worst
    expect(sponsorable(await sponsoredTx({ gas: 160_000n, maxFeePerGas: 40_000_000_000n }))).toBe('sponsored')
  })

  it('refuses a gas limit above maxGas, and accepts one exactly at it', async () => {
    expect(sponsorable(await sponsoredTx({ gas: 200_000n, maxFeePerGas: 1_000_000_000n }))).toBe('sponsored')
    expect(sponsorable(await sponsoredTx({ gas: 200_001n, maxFeePerGas: 1_000_000_000n }))).toContain(
      'gas limit 200001',
    )
  })

  it('refuses a maxFeePerGas above the limit, and accepts one exactly at it', async () => {
    expect(sponsorable(await sponsoredTx({ gas: 100_000n, maxFeePerGas: 50_000_000_000n }))).toBe('sponsored')
    expect(sponsorable(await sponsoredTx({ gas: 100_000n, maxFeePerGas: 50_000_000_001n }))).toContain(
      'maxFeePerGas 50000000001',
    )
  })

  it('caps the worst-case fee, gas × maxFeePerGas rounded up to a base unit, at maxFee', async () => {
    const even = await sponsoredTx({ gas: 160_000n, maxFeePerGas: 40_000_000_000n }) // exactly 6 400 units
    expect(sponsorable(even, { maxFee: 6_400n })).toBe('sponsored')
    expect(sponsorable(even, { maxFee: 6_399n })).toContain('up to 6400 fee-token base units')
    const uneven = await sponsoredTx({ gas: 100_001n, maxFeePerGas: 1_000_000_000n }) // 100.001 units → 101
    expect(sponsorable(uneven, { maxFee: 101n })).toBe('sponsored')
    expect(sponsorable(uneven, { maxFee: 100n })).toContain('up to 101 ')
  })

  it('refuses a transaction without a gas limit or without a maxFeePerGas', async () => {
    expect(sponsorable(await sponsoredTx({ gas: 0n }))).toContain('no gas limit')
    expect(sponsorable(await sponsoredTx({ maxFeePerGas: 0n }))).toContain('no maxFeePerGas')
  })

  it('refuses an access list, an authorization list and a key authorization', async () => {
    const accessList = await sponsoredWith({ accessList: [{ address: PATH_USD_TOKEN, storageKeys: [] }] })
    expect(sponsorable(accessList)).toContain('access list')

    const authorization = AuthorizationTempo.from({ address: accounts.other.address, chainId: CHAIN_ID, nonce: 0n })
    const authorizationList = await sponsoredWith({
      authorizationList: [
        AuthorizationTempo.from(authorization, {
          signature: await signedBy(AuthorizationTempo.getSignPayload(authorization)),
        }),
      ],
    })
    expect(sponsorable(authorizationList)).toContain('authorization list')

    const key = KeyAuthorization.from({
      address: accounts.other.address,
      chainId: BigInt(CHAIN_ID),
      expiry: VALID_BEFORE + 3600,
      type: 'secp256k1',
      limits: [{ token: PATH_USD_TOKEN, limit: 1_000_000n }],
    })
    const keyAuthorization = await sponsoredWith({
      keyAuthorization: KeyAuthorization.from(key, {
        signature: Signature.fromHex(await accounts.payer.sign({ hash: KeyAuthorization.getSignPayload(key) })),
      }),
    })
    expect(sponsorable(keyAuthorization)).toContain('access key')

    // the helper itself makes sponsorable transactions
    expect(sponsorable(await sponsoredWith({}))).toBe('sponsored')
  })
})

describe('cosign', () => {
  /** The fee payer a final transaction's fee-payer signature recovers to, for a given sender. */
  function feePayerOf(final: Hex, sender: Address): Address {
    const envelope = TxEnvelopeTempo.deserialize(final as TxEnvelopeTempo.Serialized)
    expect(envelope.feePayerSignature).toBeTruthy()
    const payload = TxEnvelopeTempo.getFeePayerSignPayload(envelope, { sender })
    return getAddress(Secp256k1.recoverAddress({ payload, signature: envelope.feePayerSignature! }))
  }

  for (const form of ['handoff', 'placeholder'] as const) {
    it(`turns a ${form} credential into the final 0x76 transaction, co-signed by the sponsor`, async () => {
      const credential = await signPaymentTx({ transfers: [PAY], validBefore: VALID_BEFORE, sponsored: form })
      const tx = parse(credential)
      const final = await cosign(tx, accounts.sponsor, FEE_TOKEN)
      expect(final.startsWith('0x76')).toBe(true)
      expect(final).not.toBe(credential)
      expect(feePayerOf(final, accounts.payer.address)).toBe(accounts.sponsor.address)
      // the sender's signature still authenticates the payer, over the same calls
      const reparsed = parse(final)
      expect(reparsed.sender).toBe(accounts.payer.address)
      expect(reparsed.wantsSponsor).toBe(false)
      expect(reparsed.transfers).toEqual(tx.transfers)
      expect(reparsed.envelope.validBefore).toBe(VALID_BEFORE)
      // the fee is paid in the sponsor's token, not left to the payer
      expect(getAddress(reparsed.envelope.feeToken as Address)).toBe(FEE_TOKEN)
      // the final transaction is canonical: what is hashed for the receipt is what the node gets
      expect(TxEnvelopeTempo.serialize(TxEnvelopeTempo.deserialize(final as TxEnvelopeTempo.Serialized))).toBe(final)
    })
  }

  it('signs for the recovered sender when a 0x78 envelope claims another one', async () => {
    const forged = await signPaymentTx({
      transfers: [PAY],
      validBefore: VALID_BEFORE,
      sponsored: 'handoff',
      embeddedSender: accounts.other.address,
    })
    const final = await cosign(parse(forged), accounts.sponsor, FEE_TOKEN)
    expect(feePayerOf(final, accounts.payer.address)).toBe(accounts.sponsor.address)
    // had it signed for the claimed sender, this would recover to the sponsor
    expect(feePayerOf(final, accounts.other.address)).not.toBe(accounts.sponsor.address)
    expect(parse(final).sender).toBe(accounts.payer.address)
  })
})
