import { getAddress, isAddress } from 'viem'
import type { Address } from '../../config/types.js'
import { PaymentRefused } from '../../core/method.js'

const DID_PKH = /^did:pkh:eip155:(0|[1-9][0-9]{0,15}):(0x[0-9a-fA-F]{40})$/

/**
 * The payer address of a credential's `source` (`did:pkh:eip155:<chainId>:<address>`, draft-tempo-charge
 * §Credential Structure). Its chain must be the charge's: a DID for another chain names another account.
 */
export function payerAddress(source: string, chainId: number): Address {
  const match = DID_PKH.exec(source)
  if (!match || !isAddress(match[2]!, { strict: false })) {
    throw new PaymentRefused(
      'invalid-payload',
      'The credential source must be a DID like did:pkh:eip155:<chainId>:<0x address>.',
    )
  }
  if (Number(match[1]) !== chainId)
    throw new PaymentRefused('verification-failed', `The credential source is on chain ${match[1]}, not ${chainId}.`)
  return getAddress(match[2]!)
}
