import { Proof as MppxProof } from 'mppx/tempo'
import { describe, expect, it } from 'vitest'
import { accounts } from '../../../test/support/tempo-tx.js'
import { type ProofContext, verify } from './proof.js'

const CONTEXT: ProofContext = {
  payer: accounts.payer.address,
  chainId: 42431,
  challengeId: 'ch_proof_1',
  realm: 'api.example.com',
}

/** mppx 0.11's proof: domain {MPP, "3", chainId}, Proof{account, challengeId, realm}, built by mppx itself. */
const signV3 = (context: ProofContext, account = accounts.payer) =>
  account.signTypedData(
    MppxProof.typedData({
      account: context.payer,
      chainId: context.chainId,
      challengeId: context.challengeId,
      realm: context.realm,
    }),
  )

/** draft-tempo-charge-00 §Proof Payload: domain {MPP, "1", chainId}, Proof{challengeId}. */
const signV1 = (context: Pick<ProofContext, 'chainId' | 'challengeId'>, account = accounts.payer) =>
  account.signTypedData({
    domain: { name: 'MPP', version: '1', chainId: context.chainId },
    types: { Proof: [{ name: 'challengeId', type: 'string' }] },
    primaryType: 'Proof',
    message: { challengeId: context.challengeId },
  })

describe('verify', () => {
  it('accepts the mppx (v3) proof and the spec (v1) proof of the payer for this challenge', async () => {
    expect(await verify(await signV3(CONTEXT), CONTEXT)).toBe(true)
    expect(await verify(await signV1(CONTEXT), CONTEXT)).toBe(true)
  })

  it('accepts upper-case hex', async () => {
    const signature = await signV3(CONTEXT)
    expect(await verify(`0x${signature.slice(2).toUpperCase()}`, CONTEXT)).toBe(true)
  })

  it('refuses a proof for another challenge', async () => {
    expect(await verify(await signV3({ ...CONTEXT, challengeId: 'ch_other' }), CONTEXT)).toBe(false)
    expect(await verify(await signV1({ ...CONTEXT, challengeId: 'ch_other' }), CONTEXT)).toBe(false)
  })

  it('refuses a v3 proof for another realm or naming another account', async () => {
    expect(await verify(await signV3({ ...CONTEXT, realm: 'api.other.example' }), CONTEXT)).toBe(false)
    expect(await verify(await signV3({ ...CONTEXT, payer: accounts.other.address }), CONTEXT)).toBe(false)
  })

  it('refuses a proof for another chain', async () => {
    expect(await verify(await signV3({ ...CONTEXT, chainId: 4217 }), CONTEXT)).toBe(false)
    expect(await verify(await signV1({ ...CONTEXT, chainId: 4217 }), CONTEXT)).toBe(false)
  })

  it('refuses a proof signed by someone other than the payer', async () => {
    expect(await verify(await signV3(CONTEXT, accounts.other), CONTEXT)).toBe(false)
    expect(await verify(await signV1(CONTEXT, accounts.other), CONTEXT)).toBe(false)
    // the other account's own proof is valid for the other account only
    const own = await signV3({ ...CONTEXT, payer: accounts.other.address }, accounts.other)
    expect(await verify(own, { ...CONTEXT, payer: accounts.other.address })).toBe(true)
    expect(await verify(own, CONTEXT)).toBe(false)
  })

  it('refuses garbage without throwing', async () => {
    const good = await signV3(CONTEXT)
    const garbage = [
      '',
      '0x',
      good.slice(2),
      good.slice(0, -2),
      `${good}00`,
      `0x${'00'.repeat(65)}`,
      `0x${'ff'.repeat(65)}`,
      `${good.slice(0, -2)}05`,
      `${good.slice(0, -1)}z`,
      'not a signature',
    ]
    for (const signature of garbage) expect(await verify(signature, CONTEXT), signature).toBe(false)
  })
})
