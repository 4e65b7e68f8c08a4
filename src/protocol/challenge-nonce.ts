/**
 * Per-issuance randomness in a challenge's `opaque` map. The id is an HMAC over the challenge, so
 * without it two 402s for one route in the same millisecond got the same id (and a Tempo memo
 * bound to one was bound to both). mppx reserves the same key for the same purpose.
 */
import { randomBytes } from 'node:crypto'

export const NONCE_KEY = '_mppx_nonce'

/** 256 random bits as 0x-prefixed lowercase hex, the encoding mppx uses. */
export function freshNonce(): string {
  return `0x${randomBytes(32).toString('hex')}`
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
