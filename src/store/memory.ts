import { type SettlementRecord, begin, unfinished, update } from '../core/settlement-record.js'
import type { GrantRecord } from '../core/grants.js'
import type { StoreBundle } from './ports.js'
import type { LedgerEntry } from './types.js'

/**
 * The embedded store: single use and ledger inside one process. JavaScript runs one callback at a
 * time, so check-and-set on a Map is atomic here; across processes it guarantees nothing, which is
 * why the gateway logs that it is running single-instance.
 */
export interface MemoryStore extends StoreBundle {
  /** live claims and settlement records held in memory (expired ones linger only until the next sweep) */
  claimCount(): number
  /** rate-counter windows held in memory (ended ones linger only until the next sweep) */
  rateWindowCount(): number
}

/** payments the in-memory ledger keeps; each one's request log line is the lasting record */
const LEDGER_MAX = 10_000

export function createMemoryStore(
  options: { now?: () => number; sweepEvery?: number; ledgerMax?: number } = {},
): MemoryStore {
  const now = options.now ?? Date.now
  const claims = new Map<string, { owner: string; expiresAt: number }>()
  const records = new Map<string, SettlementRecord>()
  /** unfinished record id → lease end, as the Redis store's sweeper index */
  const open = new Map<string, number>()
  // The in-memory store's memory begins with the process: challenges issued before it are refused.
  const epoch = now()
  /** rate key → hits so far and when its fixed window ends (epoch ms) */
  const windows = new Map<string, { count: number; endsAt: number }>()
  const entries: LedgerEntry[] = []
  const pending = new Map<string, Map<string, string>>()
  const sweepEvery = options.sweepEvery ?? 1024
  const ledgerMax = options.ledgerMax ?? LEDGER_MAX
  // Expired entries are dropped in bulk every `sweepEvery` writes, so memory stays bounded by what
  // is live: claims by live challenges, rate windows (one per client IP) by the current window.
  const sweepClaims = sweeper(sweepEvery, claims, (claim, at) => claim.expiresAt <= at)
  const sweepRecords = sweeper(sweepEvery, records, (record, at) => record.keepUntil <= at)
  const live = (id: string, at: number) => {
    const record = records.get(id)
    return record && record.keepUntil > at ? record : undefined
  }
  const store = (id: string, record: SettlementRecord) => {
    records.set(id, record)
    if (record.state === 'served' || record.state === 'failed') open.delete(id)
    else open.set(id, record.leaseUntil)
  }
  const sweepWindows = sweeper(sweepEvery, windows, (window, at) => window.endsAt <= at)
  /** key hash → record and when it may be forgotten */
  const grants = new Map<string, { record: GrantRecord; keepUntil: number }>()
  const sweepGrants = sweeper(sweepEvery, grants, (grant, at) => grant.keepUntil <= at)

  return {
    description: 'memory (single instance: claims are not shared with other gateway processes)',
    async claim(key, expiresAtMs, owner) {
      const at = now()
      sweepClaims(at)
      const held = claims.get(key)
      if (held !== undefined && held.expiresAt > at) return held.owner === owner
      claims.set(key, { owner, expiresAt: expiresAtMs })
      return true
    },
    async release(key, owner) {
      if (claims.get(key)?.owner === owner) claims.delete(key)
    },
    async begin(request) {
      const at = now()
      sweepRecords(at)
      const { result, next } = begin(live(request.id, at), epoch, request)
      if (next) store(request.id, next)
      return result
    },
    async update(request) {
      const { ok, next } = update(live(request.id, now()), request)
      if (next) store(request.id, next)
      return ok
    },
    async drop(id, attempt) {
      const record = records.get(id)
      if (record && record.attempt !== attempt) return
      records.delete(id)
      open.delete(id)
    },
    async unfinished(cutoff, limit) {
      const found: Array<{ id: string; record: SettlementRecord }> = []
      for (const [id, leaseUntil] of open) {
        if (found.length >= limit) break
        if (leaseUntil > cutoff) continue
        open.delete(id)
        const record = live(id, now())
        if (record && unfinished(record, cutoff)) found.push({ id, record })
      }
      return found
    },
    async record(entry) {
      entries.push(entry)
      // A long-running single instance must not grow without bound: drop the oldest in batches
      // (one splice per ledgerMax payments, not one shift per payment).
      if (entries.length >= 2 * ledgerMax) entries.splice(0, entries.length - ledgerMax)
    },
    async ledger(limit = 1000) {
      return entries.slice(0, limit)
    },
    async recentLedger(limit, settledSince) {
      const found: LedgerEntry[] = []
      for (let i = entries.length - 1; i >= 0 && found.length < limit; i--) {
        const entry = entries[i]!
        // an unreadable settledAt is kept: a filter never hides an entry it cannot date
        if (settledSince === undefined || !(Date.parse(entry.settledAt) < settledSince)) found.push(entry)
      }
      return found
    },
    async countHit(key, windowMs) {
      const at = now()
      sweepWindows(at)
      const window = windows.get(key)
      if (window && window.endsAt > at) return ++window.count
      // The first hit starts the window, as in Redis: later hits do not extend it.
      windows.set(key, { count: 1, endsAt: at + windowMs })
      return 1
    },
    async addPending(queue, id, job) {
      let jobs = pending.get(queue)
      if (!jobs) pending.set(queue, (jobs = new Map()))
      jobs.set(id, job)
    },
    async listPending(queue, limit = 1000) {
      return [...(pending.get(queue) ?? [])].slice(0, limit).map(([id, job]) => ({ id, job }))
    },
    async removePending(queue, id) {
      pending.get(queue)?.delete(id)
    },
    async putGrant(hash, record, keepUntilMs) {
      sweepGrants(now())
      grants.set(hash, { record, keepUntil: keepUntilMs })
    },
    async getGrant(hash) {
      const held = grants.get(hash)
      return held && held.keepUntil > now() ? held.record : undefined
    },
    async ping() {},
    async close() {},
    claimCount: () => claims.size + records.size,
    rateWindowCount: () => windows.size,
  }
}

/** Called on every write; every `every`-th call deletes the map's entries that `expired` says are done. */
function sweeper<V>(
  every: number,
  map: Map<string, V>,
  expired: (value: V, at: number) => boolean,
): (at: number) => void {
  let calls = 0
  return (at) => {
    if (++calls < every) return
    calls = 0
    for (const [key, value] of map) if (expired(value, at)) map.delete(key)
  }
}
