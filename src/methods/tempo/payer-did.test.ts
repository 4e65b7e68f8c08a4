import { describe, expect, it } from 'vitest'
import { PaymentRefused } from '../../core/method.js'
import { payerAddress } from './payer-did.js'

const CHECKSUMMED = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'

function refusal(source: string, chainId = 42431): string {
  try {
    payerAddress(source, chainId)
    return 'accepted'
  } catch (error) {
    if (!(error instanceof PaymentRefused)) throw error
    return error.problem
  }
}

describe('payerAddress', () => {
  it('reads the address of a did:pkh on the charge chain, checksummed', () => {
    expect(payerAddress(`did:pkh:eip155:42431:${CHECKSUMMED}`, 42431)).toBe(CHECKSUMMED)
    expect(payerAddress(`did:pkh:eip155:42431:${CHECKSUMMED.toLowerCase()}`, 42431)).toBe(CHECKSUMMED)
    expect(payerAddress(`did:pkh:eip155:4217:0x${CHECKSUMMED.slice(2).toUpperCase()}`, 4217)).toBe(CHECKSUMMED)
  })

  it('refuses a DID for another chain: it names another account', () => {
    expect(refusal(`did:pkh:eip155:4217:${CHECKSUMMED}`, 42431)).toBe('verification-failed')
    expect(refusal(`did:pkh:eip155:1:${CHECKSUMMED}`, 42431)).toBe('verification-failed')
  })

  it('refuses malformed DIDs', () => {
    const bad = [
      '',
      CHECKSUMMED,
      `did:pkh:eip155:42431:${CHECKSUMMED.slice(0, -1)}`,
      `did:pkh:eip155:42431:${CHECKSUMMED}0`,
      `did:pkh:eip155:042431:${CHECKSUMMED}`,
      `did:pkh:eip155::${CHECKSUMMED}`,
      `did:pkh:solana:42431:${CHECKSUMMED}`,
      `did:key:eip155:42431:${CHECKSUMMED}`,
      `did:pkh:eip155:42431:${CHECKSUMMED.replace('0x', '')}`,
      `did:pkh:eip155:42431:${CHECKSUMMED} `,
      `did:pkh:eip155:42431:0x${'g'.repeat(40)}`,
    ]
    for (const source of bad) expect(refusal(source), source).toBe('invalid-payload')
  })
})
