import { describe, expect, it } from 'vitest'
import { parseAddress, ZERO_ADDRESS } from './address.js'

const CHECKSUMMED = '0x742d35Cc6634c0532925a3b844bC9e7595F8fE00'

describe('parseAddress', () => {
  it.each([
    ['lower case', CHECKSUMMED.toLowerCase()],
    ['upper case', `0x${CHECKSUMMED.slice(2).toUpperCase()}`],
    ['a valid checksum', CHECKSUMMED],
  ])('accepts %s and returns the checksum form', (_what, text) => {
    expect(parseAddress(text)).toEqual({ ok: true, address: CHECKSUMMED })
  })

  it('accepts the zero address (callers decide whether it may receive money)', () => {
    expect(parseAddress(ZERO_ADDRESS)).toEqual({ ok: true, address: ZERO_ADDRESS })
  })

  it('refuses mixed case that fails the checksum', () => {
    const text = '0x742d35Cc6634C0532925a3b844Bc9e7595f8fE00'
    expect(parseAddress(text)).toEqual({
      ok: false,
      problem: `"${text}" fails its EIP-55 checksum (write it in lower case to skip the check)`,
    })
  })

  it('quotes a malformed value only when it has the length of an address', () => {
    const wrongDigit = `0x${'z'.repeat(40)}`
    expect(parseAddress(wrongDigit)).toEqual({
      ok: false,
      problem: `"${wrongDigit}" is not an address ("0x" followed by 40 hex digits)`,
    })
    expect(parseAddress(`0X${'a'.repeat(40)}`)).toMatchObject({ ok: false })
    const key = `0x${'ab'.repeat(32)}`
    expect(parseAddress(key)).toEqual({
      ok: false,
      problem: 'must be an address, "0x" followed by 40 hex digits (got 66 characters)',
    })
    expect(parseAddress('')).toEqual({
      ok: false,
      problem: 'must be an address, "0x" followed by 40 hex digits (got 0 characters)',
    })
  })
})
