import { describe, expect, it } from 'vitest'
import { createMemoryStore } from './memory.js'

describe('memory store', () => {
  it('lets exactly one of many concurrent claims win', async () => {
    const store = createMemoryStore()
    const expires = Date.now() + 60_000
    const results = await Promise.all(Array.from({ length: 50 }, () => store.claim('challenge:x', expires)))
    expect(results.filter(Boolean)).toHaveLength(1)
  })

  it('frees a claim after release and after expiry', async () => {
    let now = 1_000
    const store = createMemoryStore({ now: () => now })
    expect(await store.claim('k', 2_000)).toBe(true)
    expect(await store.claim('k', 2_000)).toBe(false)
    await store.release('k')
    expect(await store.claim('k', 2_000)).toBe(true)
    now = 2_000
    expect(await store.claim('k', 3_000)).toBe(true)
  })

  it('forgets expired claims, so memory stays bounded by live challenges', async () => {
    let now = 0
    const store = createMemoryStore({ now: () => now, sweepEvery: 10 })
    for (let i = 0; i < 1000; i++) await store.claim(`old:${i}`, 100)
    now = 200
    // the sweep runs on later claims; afterwards the old keys are gone and claimable again
    expect(store.claimCount()).toBe(1000)
    for (let i = 0; i < 10; i++) await store.claim(`new:${i}`, 1_000)
    expect(store.claimCount()).toBeLessThanOrEqual(10)
  })
})
