import { afterAll, describe, expect, it } from 'vitest'
import { SHARED_REDIS_URL } from '../../test/support/redis-server.js'
import { createMemoryStore } from './memory.js'
import type { StoreBundle } from './ports.js'
import { createRedisStore } from './redis.js'
import type { LedgerEntry } from './types.js'

/* recentLedger (what `mpp-gateway payments` reads), against both stores alike. */

const opened: StoreBundle[] = []
afterAll(() => Promise.all(opened.map((s) => s.close())))

const stores: Array<[string, () => StoreBundle]> = [
  ['memory', () => createMemoryStore()],
  [
    'redis',
    () => {
      const store = createRedisStore({
        url: SHARED_REDIS_URL,
        keyPrefix: `test:recent-ledger:${process.pid}:${Math.random().toString(36).slice(2)}:`,
      })
      opened.push(store)
      return store
    },
  ],
]

const T0 = Date.parse('2026-12-01T12:00:00.000Z')

function entry(id: string, settledAtMs: number): LedgerEntry {
  return {
    challengeId: id,
    route: 'GET /paid',
    method: 'stripe',
    amount: '100',
    currency: 'usd',
    reference: `pi_${id}`,
    settledAt: new Date(settledAtMs).toISOString(),
    upstreamStatus: 200,
    state: 'served',
    outcome: 'served',
  }
}

describe.each(stores)('recentLedger on the %s store', (_name, create) => {
  it('reads newest first, at most limit entries', async () => {
    const store = create()
    for (const id of ['a', 'b', 'c', 'd']) await store.record(entry(id, T0))
    expect((await store.recentLedger(3)).map((e) => e.challengeId)).toEqual(['d', 'c', 'b'])
    expect((await store.recentLedger(10)).map((e) => e.challengeId)).toEqual(['d', 'c', 'b', 'a'])
    expect(await store.recentLedger(0)).toEqual([])
    // the oldest-first read is unchanged
    expect((await store.ledger(2)).map((e) => e.challengeId)).toEqual(['a', 'b'])
  })

  it('with settledSince keeps only entries settled at or after it, even one written after a later one', async () => {
    const store = create()
    await store.record(entry('old', T0 - 60_000))
    await store.record(entry('at', T0))
    await store.record(entry('new', T0 + 1))
    // settled before `since` but written last (its response streamed for long)
    await store.record(entry('late-write', T0 - 1))
    await store.record({ ...entry('undated', T0), settledAt: 'not a time' })
    expect((await store.recentLedger(10, T0)).map((e) => e.challengeId)).toEqual(['undated', 'new', 'at'])
    expect((await store.recentLedger(2, T0)).map((e) => e.challengeId)).toEqual(['undated', 'new'])
  })

  it('reads past one page of entries', async () => {
    const store = create()
    for (let i = 0; i < 1100; i++) await store.record(entry(`e${i}`, T0 + i))
    const read = await store.recentLedger(1050)
    expect(read.length).toBe(1050)
    expect(read[0]!.challengeId).toBe('e1099')
    expect(read[1049]!.challengeId).toBe('e50')
    const since = await store.recentLedger(5000, T0 + 600)
    expect(since.length).toBe(500)
    expect(since.at(-1)!.challengeId).toBe('e600')
  })
})
