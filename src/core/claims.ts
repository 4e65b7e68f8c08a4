import type { Logger } from '../log/logger.js'
import type { Claims } from '../store/ports.js'

/** Records outlive their challenge a little, so clock skew between replicas cannot reopen one. */
export const CLAIM_GRACE_MS = 60_000

/**
 * The keys one method claims while it settles (transaction hashes, a payer's lock), namespaced by
 * the method and owned by the challenge: a re-driven settlement of that challenge holds them again.
 */
export interface MethodClaims {
  readonly claimOnce: (key: string, expiresAtMs: number) => Promise<boolean>
  readonly release: (key: string) => Promise<void>
  /** store keys still held */
  held(): readonly string[]
}

export function methodClaims(claims: Claims, method: string, owner: string): MethodClaims {
  const held: string[] = []
  return {
    claimOnce: async (key, expiresAtMs) => {
      const storeKey = `${method}:${key}`
      const claimed = await claims.claim(storeKey, expiresAtMs, owner)
      if (claimed && !held.includes(storeKey)) held.push(storeKey)
      return claimed
    },
    release: async (key) => {
      const storeKey = `${method}:${key}`
      const at = held.indexOf(storeKey)
      if (at === -1) return
      held.splice(at, 1)
      await claims.release(storeKey, owner)
    },
    held: () => [...held],
  }
}

/** Gives claims back, one by one; a release that fails is logged (its claim expires by itself). */
export async function releaseAll(
  claims: Claims,
  keys: readonly string[],
  owner: string,
  logger: Logger,
): Promise<void> {
  for (const key of keys) {
    await claims
      .release(key, owner)
      .catch((releaseError) =>
        logger.error('could not release a claim', { key, challengeId: owner, error: releaseError }),
      )
  }
}
