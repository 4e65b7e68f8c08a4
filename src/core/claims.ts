import type { Logger } from '../log/logger.js'
import type { Claims } from '../store/ports.js'

/** Claims outlive their challenge a little, so clock skew between replicas cannot reopen one. */
export const CLAIM_GRACE_MS = 60_000

/** Claims a challenge's single use: true if this request got it, false if it was already used. */
export function claimChallenge(claims: Claims, challengeId: string, expiresAtMs: number): Promise<boolean> {
  return claims.claim(challengeKey(challengeId), expiresAtMs + CLAIM_GRACE_MS)
}

export function challengeKey(challengeId: string): string {
  return `challenge:${challengeId}`
}

/** The keys one method claims while it settles (transaction hashes), namespaced by the method. */
export interface MethodClaims {
  readonly claimOnce: (key: string, expiresAtMs: number) => Promise<boolean>
  readonly release: (key: string) => Promise<void>
  /** store keys still held */
  held(): readonly string[]
}

export function methodClaims(claims: Claims, method: string): MethodClaims {
  const held: string[] = []
  return {
    claimOnce: async (key, expiresAtMs) => {
      const storeKey = `${method}:${key}`
      const claimed = await claims.claim(storeKey, expiresAtMs)
      if (claimed) held.push(storeKey)
      return claimed
    },
    release: async (key) => {
      const storeKey = `${method}:${key}`
      const at = held.indexOf(storeKey)
      if (at === -1) return
      held.splice(at, 1)
      await claims.release(storeKey)
    },
    held: () => [...held],
  }
}

/** Gives claims back, one by one; a release that fails is logged (its claim expires by itself). */
export async function releaseAll(
  claims: Claims,
  keys: readonly string[],
  logger: Logger,
  challengeId: string,
): Promise<void> {
  for (const key of keys) {
    await claims
      .release(key)
      .catch((releaseError) => logger.error('could not release a claim', { key, challengeId, error: releaseError }))
  }
}
