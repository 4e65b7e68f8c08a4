import { getAddress, isAddress } from 'viem'
import type { Address } from './types.js'

export const ZERO_ADDRESS: Address = '0x0000000000000000000000000000000000000000'

const SHAPE = /^0x[0-9a-fA-F]{40}$/

/**
 * Checks an EVM address as written in the config and returns it in EIP-55 checksum form.
 * All-lower-case or all-upper-case hex carries no checksum and is taken as is; mixed case must be
 * a valid EIP-55 checksum, so a mistyped character is caught. `problem` quotes the text only when
 * it has the length of an address, so a key pasted into the wrong field is never echoed.
 */
export function parseAddress(text: string): { ok: true; address: Address } | { ok: false; problem: string } {
  if (!SHAPE.test(text)) {
    const problem =
      text.length === 42
        ? `${JSON.stringify(text)} is not an address ("0x" followed by 40 hex digits)`
        : `must be an address, "0x" followed by 40 hex digits (got ${text.length} characters)`
    return { ok: false, problem }
  }
  const digits = text.slice(2)
  const uniform = digits === digits.toLowerCase() || digits === digits.toUpperCase()
  if (!uniform && !isAddress(text, { strict: true })) {
    return {
      ok: false,
      problem: `${JSON.stringify(text)} fails its EIP-55 checksum (write it in lower case to skip the check)`,
    }
  }
  return { ok: true, address: getAddress(text) }
}
