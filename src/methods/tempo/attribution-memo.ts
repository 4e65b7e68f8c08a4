import { keccak256, stringToBytes } from 'viem'
import type { Hex } from '../../config/types.js'

/**
 * The challenge-bound attribution memo that mppx clients put on their primary `transferWithMemo`
 * (mppx `Attribution`, not in draft-tempo-charge-00). 32 bytes:
 *
 * | bytes  | content                                   |
 * |--------|-------------------------------------------|
 * | 0..3   | tag = keccak256("mpp")[0..3] = ef1ed712   |
 * | 4      | version 0x01                              |
 * | 5..14  | keccak256(realm)[0..9]                    |
 * | 15..24 | keccak256(clientId)[0..9], or zeros       |
 * | 25..31 | keccak256(challengeId)[0..6]              |
 *
 * The challenge part is what makes a public transaction hash useless to anyone but the payer
 * who was issued that challenge.
 */
const TAG = keccak256(stringToBytes('mpp')).slice(2, 10)
const VERSION = '01'

function fingerprint(value: string, bytes: number): string {
  return keccak256(stringToBytes(value)).slice(2, 2 + bytes * 2)
}

/** The memo for a challenge; `clientId` is the payer's free-form label (anonymous: zeros). */
export function encode(parameters: { realm: string; challengeId: string; clientId?: string }): Hex {
  const client = parameters.clientId ? fingerprint(parameters.clientId, 10) : '00'.repeat(10)
  return `0x${TAG}${VERSION}${fingerprint(parameters.realm, 10)}${client}${fingerprint(parameters.challengeId, 7)}`
}

/** Whether `memo` is an attribution memo for this realm and challenge (any client id). */
export function isBoundTo(memo: string | undefined, parameters: { realm: string; challengeId: string }): boolean {
  if (memo === undefined || !/^0x[0-9a-fA-F]{64}$/.test(memo)) return false
  const hex = memo.slice(2).toLowerCase()
  return (
    hex.slice(0, 8) === TAG &&
    hex.slice(8, 10) === VERSION &&
    hex.slice(10, 30) === fingerprint(parameters.realm, 10) &&
    hex.slice(50, 64) === fingerprint(parameters.challengeId, 7)
  )
}

export const tag: Hex = `0x${TAG}`
