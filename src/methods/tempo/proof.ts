import { type Hex, isAddressEqual, recoverTypedDataAddress } from 'viem'
import type { Address } from '../../config/types.js'

export interface ProofContext {
  readonly payer: Address
  readonly chainId: number
  readonly challengeId: string
  readonly realm: string
}

/**
 * Signers recovered under the two EIP-712 forms of a zero-amount proof, newest first:
 * - mppx 0.11: domain {name "MPP", version "3", chainId}, Proof{account, challengeId, realm};
 * - draft-tempo-charge-00 §Proof Payload: domain {name "MPP", version "1", chainId}, Proof{challengeId}.
 * Both bind the signature to one challenge id; the first also to the realm and the payer.
 */
async function recoverSigners(signature: Hex, context: ProofContext): Promise<Address[]> {
  const domain = (version: string) => ({ name: 'MPP', version, chainId: context.chainId })
  const attempts = [
    () =>
      recoverTypedDataAddress({
        domain: domain('3'),
        types: {
          Proof: [
            { name: 'account', type: 'address' },
            { name: 'challengeId', type: 'string' },
            { name: 'realm', type: 'string' },
          ],
        },
        primaryType: 'Proof',
        message: { account: context.payer, challengeId: context.challengeId, realm: context.realm },
        signature,
      }),
    () =>
      recoverTypedDataAddress({
        domain: domain('1'),
        types: { Proof: [{ name: 'challengeId', type: 'string' }] },
        primaryType: 'Proof',
        message: { challengeId: context.challengeId },
        signature,
      }),
  ]
  const signers: Address[] = []
  for (const attempt of attempts) {
    // a signature that does not recover under one form may under the other
    const signer = await attempt().catch(() => undefined)
    if (signer) signers.push(signer)
  }
  return signers
}

/**
 * Whether `signature` proves that the payer (an externally owned account) signed this challenge.
 * Pure ecrecover: no RPC, so smart-contract wallets (ERC-1271/6492) are not accepted.
 */
export async function verify(signature: string, context: ProofContext): Promise<boolean> {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return false
  const signers = await recoverSigners(signature as Hex, context)
  return signers.some((signer) => isAddressEqual(signer, context.payer))
}
