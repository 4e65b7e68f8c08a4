import { TxEnvelopeTempo } from 'ox/tempo'
import { encodeFunctionData, getAddress, type Hex, maxUint256 } from 'viem'
import { describe, expect, it } from 'vitest'
import { accounts, PATH_USD_TOKEN, signPaymentTx, transferCall } from '../../../test/support/tempo-tx.js'
import type { Address } from '../../config/types.js'
import { PaymentRefused } from '../../core/method.js'
import { encode } from './attribution-memo.js'
import { cosign } from './fee-payer.js'
import { check, type PaymentTransaction, parse, type TransactionRules } from './transaction.js'
import type { RequiredTransfer } from './transfers.js'

const CHAIN_ID = 42431
const NOW = 1_800_000_000
const binding = { realm: 'api.example.com', challengeId: 'ch_tx_test' }
const MEMO = encode(binding)
const MERCHANT = accounts.recipient.address
const PLATFORM = accounts.platform.address
const OTHER_TOKEN: Address = '0x20C0000000000000000000000000000000000001'

const PRIMARY: RequiredTransfer = { to: MERCHANT, amount: 500_000n, memo: 'bound' }
const RULES: TransactionRules = {
  chainId: CHAIN_ID,
  currency: PATH_USD_TOKEN,
  required: [PRIMARY],
  binding,
  nowSec: NOW,
  latestValidBeforeSec: NOW + 60,
}
const PAY = { to: MERCHANT, amount: 500_000n, memo: MEMO }

/** The problem type of a refusal, or 'accepted'. */
function verdict(run: () => unknown): string {
  try {
    run()
    return 'accepted'
  } catch (error) {
    if (error instanceof PaymentRefused) return error.problem
    throw error
  }
}

const checked = (serialized: Hex, rules: Partial<TransactionRules> = {}) =>
  verdict(() => check(parse(serialized), { ...RULES, ...rules }))

describe('parse', () => {
  it('reads a payer-paid 0x76 transaction: recovered sender, transfers in call order', async () => {
    const serialized = await signPaymentTx({
      transfers: [PAY, { to: PLATFORM, amount: 1n }],
      validBefore: NOW + 20,
      nonce: 7n,
    })
    expect(serialized.startsWith('0x76')).toBe(true)
    const tx = parse(serialized)
    expect(tx.sender).toBe(accounts.payer.address)
    expect(tx.wantsSponsor).toBe(false)
    expect(tx.transfers).toEqual([
      { token: getAddress(PATH_USD_TOKEN), to: MERCHANT, amount: 500_000n, memo: MEMO },
      { token: getAddress(PATH_USD_TOKEN), to: PLATFORM, amount: 1n },
    ])
    expect(tx.envelope.chainId).toBe(CHAIN_ID)
    expect(tx.envelope.validBefore).toBe(NOW + 20)
    expect(tx.envelope.nonce).toBe(7n)
    expect(tx.envelope.nonceKey).toBe(maxUint256)
    // what the gateway would broadcast is what the payer signed
    expect(TxEnvelopeTempo.serialize(tx.envelope)).toBe(serialized)
  })

  it('reads the 0x78 fee-payer handoff as a sponsorship request, and the 0x76 with a 0x00 fee-payer placeholder too', async () => {
    for (const sponsored of ['handoff', 'placeholder'] as const) {
      const serialized = await signPaymentTx({ transfers: [PAY], validBefore: NOW + 20, sponsored })
      expect(serialized.slice(0, 4)).toBe(sponsored === 'handoff' ? '0x78' : '0x76')
      const tx = parse(serialized)
      expect(tx.sender, sponsored).toBe(accounts.payer.address)
      expect(tx.wantsSponsor, sponsored).toBe(true)
      expect(tx.transfers).toHaveLength(1)
      expect(tx.envelope).not.toHaveProperty('from')
      expect(checked(serialized), sponsored).toBe('accepted')
    }
  })

  it('takes the sender from the signature, never from the address a 0x78 envelope claims', async () => {
    const forged = await signPaymentTx({
      transfers: [PAY],
      validBefore: NOW + 20,
      sponsored: 'handoff',
      embeddedSender: accounts.other.address,
    })
    // ox itself reports the embedded address for 0x78: the gateway must not
    expect(TxEnvelopeTempo.deserialize(forged as TxEnvelopeTempo.Serialized).from?.toLowerCase()).toBe(
      accounts.other.address.toLowerCase(),
    )
    expect(parse(forged).sender).toBe(accounts.payer.address)
    const signedByOther = await signPaymentTx({
      transfers: [PAY],
      validBefore: NOW + 20,
      sponsored: 'handoff',
      account: accounts.other,
      embeddedSender: accounts.payer.address,
    })
    expect(parse(signedByOther).sender).toBe(accounts.other.address)
  })

  it('refuses what is not a signed Tempo transaction', async () => {
    const good = await signPaymentTx({ transfers: [PAY], validBefore: NOW + 20 })
    const unsigned = TxEnvelopeTempo.serialize(
      TxEnvelopeTempo.from({
        chainId: CHAIN_ID,
        calls: [transferCall(PAY)],
        feeToken: PATH_USD_TOKEN,
        gas: 100_000n,
        maxFeePerGas: 1n,
        nonceKey: maxUint256,
        nonce: 1n,
        validBefore: NOW + 20,
      }),
    )
    for (const bad of [
      '',
      '0x',
      '0x76',
      '0x02f8',
      `0x02${good.slice(4)}`,
      good.slice(2),
      `${good}0`,
      `${good.slice(0, -2)}zz`,
      good.slice(0, 40),
      unsigned,
    ]) {
      expect(
        verdict(() => parse(bad)),
        bad.slice(0, 12),
      ).toBe('invalid-payload')
    }
  })

  it('accepts only TIP-20 transfer and transferWithMemo calls, canonically encoded', async () => {
    const approve = {
      to: PATH_USD_TOKEN,
      data: encodeFunctionData({
        abi: [
          {
            type: 'function',
            name: 'approve',
            stateMutability: 'nonpayable',
            inputs: [
              { name: 's', type: 'address' },
              { name: 'a', type: 'uint256' },
            ],
            outputs: [{ type: 'bool' }],
          },
        ],
        functionName: 'approve',
        args: [accounts.other.address, 2n ** 255n],
      }),
    }
    const plain = transferCall({ to: MERCHANT, amount: 1n })
    const cases: Array<[string, { to: Address; data: Hex }]> = [
      ['approve', approve],
      ['no data', { to: PATH_USD_TOKEN, data: '0x' }],
      ['trailing byte', { to: plain.to, data: `${plain.data}00` }],
      ['truncated', { to: plain.to, data: plain.data.slice(0, -2) as Hex }],
      [
        'dirty address word',
        { to: plain.to, data: `0xa9059cbb${'ff'.repeat(12)}${MERCHANT.slice(2)}${plain.data.slice(74)}` },
      ],
    ]
    for (const [name, call] of cases) {
      const serialized = await signPaymentTx({ transfers: [PAY], extraCalls: [call], validBefore: NOW + 20 })
      expect(checked(serialized), name).toBe('invalid-payload')
    }
  })
})

describe('check', () => {
  it('accepts the exact payment', async () => {
    expect(checked(await signPaymentTx({ transfers: [PAY], validBefore: NOW + 20 }))).toBe('accepted')
  })

  it('refuses a transaction for another chain', async () => {
    expect(checked(await signPaymentTx({ transfers: [PAY], validBefore: NOW + 20, chainId: 4217 }))).toBe(
      'verification-failed',
    )
  })

  it('refuses a transfer of another token', async () => {
    expect(checked(await signPaymentTx({ transfers: [{ ...PAY, token: OTHER_TOKEN }], validBefore: NOW + 20 }))).toBe(
      'verification-failed',
    )
    // even an extra one beside the right payment
    expect(
      checked(
        await signPaymentTx({
          transfers: [PAY, { to: MERCHANT, amount: 1n, token: OTHER_TOKEN }],
          validBefore: NOW + 20,
        }),
      ),
    ).toBe('verification-failed')
  })

  it('refuses the wrong recipient and the wrong amount', async () => {
    expect(
      checked(await signPaymentTx({ transfers: [{ ...PAY, to: accounts.other.address }], validBefore: NOW + 20 })),
    ).toBe('verification-failed')
    expect(checked(await signPaymentTx({ transfers: [{ ...PAY, amount: 499_999n }], validBefore: NOW + 20 }))).toBe(
      'payment-insufficient',
    )
    expect(checked(await signPaymentTx({ transfers: [{ ...PAY, amount: 500_001n }], validBefore: NOW + 20 }))).toBe(
      'verification-failed',
    )
  })

  it('refuses a payment without the memo or with the memo of another challenge', async () => {
    expect(
      checked(await signPaymentTx({ transfers: [{ to: MERCHANT, amount: 500_000n }], validBefore: NOW + 20 })),
    ).toBe('verification-failed')
    const foreign = encode({ realm: binding.realm, challengeId: 'ch_someone_else' })
    expect(checked(await signPaymentTx({ transfers: [{ ...PAY, memo: foreign }], validBefore: NOW + 20 }))).toBe(
      'verification-failed',
    )
  })

  it('accepts splits in any order, and refuses an extra transfer beside them', async () => {
    const required: RequiredTransfer[] = [
      { ...PRIMARY, amount: 400_000n },
      { to: PLATFORM, amount: 100_000n },
    ]
    const primary = { ...PAY, amount: 400_000n }
    const split = { to: PLATFORM, amount: 100_000n }
    expect(checked(await signPaymentTx({ transfers: [primary, split], validBefore: NOW + 20 }), { required })).toBe(
      'accepted',
    )
    expect(checked(await signPaymentTx({ transfers: [split, primary], validBefore: NOW + 20 }), { required })).toBe(
      'accepted',
    )
    expect(
      checked(
        await signPaymentTx({
          transfers: [split, primary, { to: accounts.other.address, amount: 1n }],
          validBefore: NOW + 20,
        }),
        { required },
      ),
    ).toBe('verification-failed')
    expect(checked(await signPaymentTx({ transfers: [primary], validBefore: NOW + 20 }), { required })).toBe(
      'verification-failed',
    )
  })

  it('requires validBefore, not past, not later than the challenge allows', async () => {
    expect(checked(await signPaymentTx({ transfers: [PAY], validBefore: null }))).toBe('verification-failed')
    expect(checked(await signPaymentTx({ transfers: [PAY], validBefore: NOW }))).toBe('payment-expired')
    expect(checked(await signPaymentTx({ transfers: [PAY], validBefore: NOW - 100 }))).toBe('payment-expired')
    expect(checked(await signPaymentTx({ transfers: [PAY], validBefore: NOW + 1 }))).toBe('accepted')
    expect(checked(await signPaymentTx({ transfers: [PAY], validBefore: NOW + 60 }))).toBe('accepted')
    expect(checked(await signPaymentTx({ transfers: [PAY], validBefore: NOW + 61 }))).toBe('verification-failed')
  })
})

describe('tampering', () => {
  /** What a transaction would do if the gateway accepted it, or undefined when parse or check refuses it. */
  function accepted(
    serialized: string,
    required: readonly RequiredTransfer[],
  ): { tx: PaymentTransaction; broadcast: Hex } | undefined {
    try {
      const tx = parse(serialized)
      check(tx, { ...RULES, required })
      return { tx, broadcast: TxEnvelopeTempo.serialize(tx.envelope) }
    } catch (error) {
      if (error instanceof PaymentRefused) return undefined
      throw error
    }
  }

  const flip = (serialized: Hex, position: number, mask: number): string => {
    const at = 2 + position * 2
    const byte = (Number.parseInt(serialized.slice(at, at + 2), 16) ^ mask).toString(16).padStart(2, '0')
    return `${serialized.slice(0, at)}${byte}${serialized.slice(at + 2)}`
  }

  const forms = [
    ['0x76 payer-paid', false],
    ['0x78 handoff', 'handoff'],
    ['0x76 placeholder', 'placeholder'],
  ] as const

  for (const [name, sponsored] of forms) {
    it(`never accepts a changed ${name} transaction as the same payer's`, async () => {
      const required: RequiredTransfer[] = [PRIMARY, { to: PLATFORM, amount: 100_000n }]
      const original = await signPaymentTx({
        transfers: [PAY, { to: PLATFORM, amount: 100_000n }],
        validBefore: NOW + 20,
        sponsored,
        nonce: 123_456n,
      })
      const reference = accepted(original, required)
      expect(reference?.tx.sender).toBe(accounts.payer.address)
      const referenceFinal = sponsored ? await cosign(reference!.tx, accounts.sponsor, PATH_USD_TOKEN) : undefined
      const bytes = (original.length - 2) / 2
      let refused = 0
      let otherSender = 0
      let sameTransaction = 0
      for (let position = 0; position < bytes; position++) {
        for (const mask of [0x01, 0x80]) {
          const outcome = accepted(flip(original, position, mask), required)
          if (outcome === undefined) refused++
          else if (outcome.tx.sender !== accounts.payer.address) otherSender++
          else {
            // Accepted as the payer's: then it is the transaction the payer signed, byte for byte once
            // re-serialized, so also the same hash (the replay claim) and the same sponsorship request.
            // (ox reads a few non-canonical spellings, e.g. 0x00 for an empty integer or v=155 for 27.)
            expect(outcome.broadcast, `byte ${position} ^ ${mask}`).toBe(reference!.broadcast)
            expect(outcome.tx.wantsSponsor, `byte ${position} ^ ${mask}`).toBe(reference!.tx.wantsSponsor)
            // a sponsored one becomes, once co-signed, the very transaction the genuine one becomes
            if (sponsored)
              expect(await cosign(outcome.tx, accounts.sponsor, PATH_USD_TOKEN), `byte ${position} ^ ${mask}`).toBe(
                referenceFinal,
              )
            sameTransaction++
          }
        }
      }
      expect(refused + otherSender + sameTransaction).toBe(bytes * 2)
      // most changes are refused outright; the rest (signature, gas, nonce bytes) move the money of an
      // unrelated, random account, which the node refuses for want of funds
      expect(refused).toBeGreaterThan(bytes)
      expect(otherSender).toBeGreaterThan(0)
      // the 0x78 envelope carries the claimed sender address unsigned: changing it changes nothing
      if (sponsored === 'handoff') expect(sameTransaction).toBeGreaterThanOrEqual(20)
    })
  }
})
