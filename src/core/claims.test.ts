import { describe, expect, it } from 'vitest'
import type { Logger } from '../log/logger.js'
import { createMemoryStore } from '../store/memory.js'
import type { Claims } from '../store/ports.js'
import { CLAIM_GRACE_MS, claimChallenge, methodClaims, releaseAll } from './claims.js'

describe('claimChallenge', () => {
  it('claims a challenge once, until a minute after it expires', async () => {
    let now = 1_000
    const store = createMemoryStore({ now: () => now })
    expect(await claimChallenge(store, 'ch_1', 5_000)).toBe(true)
    expect(await claimChallenge(store, 'ch_1', 5_000)).toBe(false)
    now = 5_000 + CLAIM_GRACE_MS - 1
    expect(await claimChallenge(store, 'ch_1', 5_000)).toBe(false)
    now = 5_000 + CLAIM_GRACE_MS
    expect(await claimChallenge(store, 'ch_1', 5_000)).toBe(true)
    expect(CLAIM_GRACE_MS).toBe(60_000)
  })
})

describe('methodClaims', () => {
  it('namespaces keys by method, so two methods never share one', async () => {
    const store = createMemoryStore()
    const tempo = methodClaims(store, 'tempo')
    expect(await tempo.claimOnce('tx:1', Date.now() + 60_000)).toBe(true)
    expect(await tempo.claimOnce('tx:1', Date.now() + 60_000)).toBe(false)
    expect(await methodClaims(store, 'other').claimOnce('tx:1', Date.now() + 60_000)).toBe(true)
    expect(tempo.held()).toEqual(['tempo:tx:1'])
  })

  it('releases only keys it holds, once', async () => {
    const store = createMemoryStore()
    const released: string[] = []
    const claims: Claims = { claim: (k, e) => store.claim(k, e), release: async (k) => void released.push(k) }
    const tempo = methodClaims(claims, 'tempo')
    await tempo.claimOnce('lock', Date.now() + 1_000)
    await tempo.release('lock')
    await tempo.release('lock')
    await tempo.release('never-claimed')
    expect(released).toEqual(['tempo:lock'])
    expect(tempo.held()).toEqual([])
  })
})

describe('releaseAll', () => {
  it('releases every key, logging the ones it could not give back', async () => {
    const released: string[] = []
    const errors: Array<Record<string, unknown>> = []
    const claims: Claims = {
      claim: async () => true,
      release: async (key) => {
        if (key === 'b') throw new Error('down')
        released.push(key)
      },
    }
    const logger = { error: (_m: string, fields: Record<string, unknown>) => errors.push(fields) } as unknown as Logger
    await releaseAll(claims, ['a', 'b', 'c'], logger, 'ch_1')
    expect(released).toEqual(['a', 'c'])
    expect(errors).toMatchObject([{ key: 'b', challengeId: 'ch_1', error: { message: 'down' } }])
  })
})
