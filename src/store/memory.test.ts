import { describe, expect, it } from 'vitest'
import { createMemoryStore } from './memory.js'

describe('memory store', () => {
  it('lets exactly one of many concurrent claims win', async () => {
    const store = createMemoryStore()
    const expires = Date.now() + 60_000
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.claim('tempo:tx:x', expires, `ch_${i}`)),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
  })

  it('frees a claim after release and after expiry', async () => {
    let now = 1_000
    const store = createMemoryStore({ now: () => now })
    expect(await store.claim('k', 2_000, 'a')).toBe(true)
    expect(await store.claim('k', 2_000, 'b')).toBe(false)
    await store.release('k', 'b') // not its owner: kept
    expect(await store.claim('k', 2_000, 'b')).toBe(false)
    await store.release('k', 'a')
    expect(await store.claim('k', 2_000, 'b')).toBe(true)
    now = 2_000
    expect(await store.claim('k', 3_000, 'c')).toBe(true)
  })

  it('forgets expired claims, so memory stays bounded by live challenges', async () => {
    let now = 0
    const store = createMemoryStore({ now: () => now, sweepEvery: 10 })
    for (let i = 0; i < 1000; i++) await store.claim(`old:${i}`, 100, 'o')
    now = 200
    // the sweep runs on later claims; afterwards the old keys are gone and claimable again
    expect(store.claimCount()).toBe(1000)
    for (let i = 0; i < 10; i++) await store.claim(`new:${i}`, 1_000, 'o')
    expect(store.claimCount()).toBeLessThanOrEqual(10)
  })

  it('counts hits 1, 2, 3 within a window, per key', async () => {
    const store = createMemoryStore()
    expect(await store.countHit('challenges:203.0.113.7', 60_000)).toBe(1)
    expect(await store.countHit('challenges:203.0.113.7', 60_000)).toBe(2)
    expect(await store.countHit('challenges:203.0.113.7', 60_000)).toBe(3)
    expect(await store.countHit('challenges:198.51.100.4', 60_000)).toBe(1)
  })

  it("starts a new window once the first hit's window has passed, and later hits do not extend it", async () => {
    let now = 0
    const store = createMemoryStore({ now: () => now })
    expect(await store.countHit('k', 1_000)).toBe(1)
    now = 900
    expect(await store.countHit('k', 1_000)).toBe(2)
    now = 1_000
    expect(await store.countHit('k', 1_000)).toBe(1)
  })

  it('starts a new window after a real wait', async () => {
    const store = createMemoryStore()
    expect(await store.countHit('k', 200)).toBe(1)
    expect(await store.countHit('k', 200)).toBe(2)
    await new Promise((r) => setTimeout(r, 300))
    expect(await store.countHit('k', 200)).toBe(1)
  })

  it('forgets ended rate windows, so many client IPs cannot grow memory without bound', async () => {
    let now = 0
    const store = createMemoryStore({ now: () => now, sweepEvery: 10 })
    for (let i = 0; i < 1000; i++) await store.countHit(`challenges:ip${i}`, 100)
    expect(store.rateWindowCount()).toBe(1000)
    now = 200
    for (let i = 0; i < 10; i++) await store.countHit(`challenges:new${i}`, 1_000)
    expect(store.rateWindowCount()).toBeLessThanOrEqual(10)
  })

  it('keeps pending jobs per queue until removed, one per id', async () => {
    const store = createMemoryStore()
    await store.addPending('records', 'a', '1')
    await store.addPending('records', 'a', '2')
    await store.addPending('records', 'b', '3')
    expect(await store.listPending('records')).toEqual([
      { id: 'a', job: '2' },
      { id: 'b', job: '3' },
    ])
    await store.removePending('records', 'a')
    expect(await store.listPending('records')).toEqual([{ id: 'b', job: '3' }])
    expect(await store.listPending('none')).toEqual([])
  })

  it('keeps the newest payments in its ledger and forgets the oldest, so memory stays bounded', async () => {
    const store = createMemoryStore({ ledgerMax: 3 })
    const entry = (n: number) => ({
      challengeId: `c${n}`,
      route: 'GET /x',
      method: 'stripe',
      amount: '50',
      currency: 'usd',
      reference: `pi_${n}`,
      settledAt: '2026-11-27T00:00:00Z',
      upstreamStatus: 200,
    })
    for (let n = 1; n <= 20; n++) await store.record(entry(n))
    const kept = await store.ledger()
    expect(kept.length).toBeLessThan(6)
    expect(kept.at(-1)!.challengeId).toBe('c20')
    expect(kept.map((e) => e.challengeId)).toEqual(
      Array.from({ length: kept.length }, (_, i) => `c${21 - kept.length + i}`),
    )
  })

  it('keeps a grant record under its hash until it may be forgotten', async () => {
    let now = 0
    const store = createMemoryStore({ now: () => now, sweepEvery: 10 })
    const record = { grant: 'order', id: 'ord_1', expiresAt: 500 }
    await store.putGrant('h1', record, 1_000)
    expect(await store.getGrant('h1')).toEqual(record)
    expect(await store.getGrant('h2')).toBeUndefined()
    now = 1_000
    expect(await store.getGrant('h1')).toBeUndefined()
  })
})
