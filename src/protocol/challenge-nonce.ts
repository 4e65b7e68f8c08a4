/**
 * Per-issuance randomness in a challenge's `opaque` map. The id is an HMAC over the challenge, so
 * without it two 402s for one route in the same millisecond got the same id (and a Tempo memo
 * bound to one was bound to both). mppx reserves the same key for the same purpose.
 */
import { randomBytes } from 'node:crypto'

export const NONCE_KEY = '_mppx_nonce'

/**
 * 256 bits as 0x-prefixed lowercase hex, the encoding mppx uses: the issuing time (unix ms, 48 bits)
 * then 208 random bits. The time lets a store that lost its memory refuse what was issued before
 * (core/settlement-record.ts, the epoch); the random part keeps ids unique.
 */
export function freshNonce(issuedAtMs: number = Date.now()): string {
  const time = Math.max(0, Math.floor(issuedAtMs)).toString(16).padStart(12, '0').slice(-12)
  return `0x${time}${randomBytes(26).toString('hex')}`
}

/** When a challenge was issued, from its nonce; undefined without one (or one not from `freshNonce`). */
export function issuedAtOf(map: Readonly<Record<string, string>>): number | undefined {
  const nonce = map[NONCE_KEY]
  if (nonce === undefined || !/^0x[0-9a-f]{64}$/.test(nonce)) return undefined
  return Number.parseInt(nonce.slice(2, 14), 16)
}

/** `map` plus a fresh nonce (a nonce already in `map` is replaced). */
export function withNonce(map: Readonly<Record<string, string>>, nonce: string = freshNonce()): Record<string, string> {
  return { ...map, [NONCE_KEY]: nonce }
}

/**
 * `map` without the nonce: what the binding checks compare. Challenges issued before the nonce
 * existed have none and still verify until they expire.
 */
export function withoutNonce(map: Readonly<Record<string, string>>): Record<string, string> {
  const { [NONCE_KEY]: _nonce, ...rest } = map
  return rest
}
