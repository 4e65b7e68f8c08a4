import type { LedgerEntry, ReplayStore } from './types.js'

/**
 * The embedded store: single use and ledger inside one process. JavaScript runs one callback at a
 * time, so check-and-set on a Map is atomic here; across processes it guarantees nothing, which is
 * why the gateway logs that it is running single-instance.
 */
export interface MemoryStore extends ReplayStore {
  /** live claims held in memory (expired ones linger only until the next sweep) */
  claimCount(): number
}

export function createMemoryStore(options: { now?: () => number; sweepEvery?: number } = {}): MemoryStore {
  const now = options.now ?? Date.now
  const claims = new Map<string, number>()
  const entries: LedgerEntry[] = []
  const sweepEvery = options.sweepEvery ?? 1024
  let claimsSinceSweep = 0

  // Expired claims are dropped in bulk now and then, so memory stays bounded by live challenges.
  function sweep(at: number): void {
    for (const [key, expiresAt] of claims) if (expiresAt <= at) claims.delete(key)
  }

  return {
    description: 'memory (single instance: claims are not shared with other gateway processes)',
    async claim(key, expiresAtMs) {
      const at = now()
      if (++claimsSinceSweep >= sweepEvery) {
        claimsSinceSweep = 0
        sweep(at)
      }
      const held = claims.get(key)
      if (held !== undefined && held > at) return false
      claims.set(key, expiresAtMs)
      return true
    },
    async release(key) {
      claims.delete(key)
    },
    async record(entry) {
      entries.push(entry)
    },
    async ledger(limit = 1000) {
      return entries.slice(0, limit)
    },
    async ping() {},
    async close() {},
    claimCount: () => claims.size,
  }
}
