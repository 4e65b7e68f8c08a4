import { describe, expect, it } from 'vitest'
import type { Logger } from '../log/logger.js'
import { createMemoryStore } from '../store/memory.js'
import type { Claims } from '../store/ports.js'
import { methodClaims, releaseAll } from './claims.js'

describe('methodClaims', () => {
  it('namespaces keys by method, so two methods never share one', async () => {
    const store = createMemoryStore()
    const tempo = methodClaims(store, 'tempo', 'ch_1')
    expect(await tempo.claimOnce('tx:1', Date.now() + 60_000)).toBe(true)
    expect(await methodClaims(store, 'tempo', 'ch_2').claimOnce('tx:1', Date.now() + 60_000)).toBe(false)
    expect(await methodClaims(store, 'other', 'ch_2').claimOnce('tx:1', Date.now() + 60_000)).toBe(true)
    expect(tempo.held()).toEqual(['tempo:tx:1'])
  })

  it("holds a key again for the challenge that owns it (a re-driven settlement), never for another's", async () => {
    const store = createMemoryStore()
    expect(await methodClaims(store, 'tempo', 'ch_1').claimOnce('tx:1', Date.now() + 60_000)).toBe(true)
    const redrive = methodClaims(store, 'tempo', 'ch_1')
    expect(await redrive.claimOnce('tx:1', Date.now() + 60_000)).toBe(true)
    expect(redrive.held()).toEqual(['tempo:tx:1'])
    await methodClaims(store, 'tempo', 'ch_2').release('tx:1') // holds nothing: a no-op
    await store.release('tempo:tx:1', 'ch_2') // not the owner: kept
    expect(await methodClaims(store, 'tempo', 'ch_2').claimOnce('tx:1', Date.now() + 60_000)).toBe(false)
  })

  it('releases only keys it holds, once', async () => {
    const store = createMemoryStore()
    const released: string[] = []
    const claims: Claims = {
      claim: (k, e, o) => store.claim(k, e, o),
      release: async (k, o) => void released.push(`${k}@${o}`),
    }
    const tempo = methodClaims(claims, 'tempo', 'ch_1')
    await tempo.claimOnce('lock', Date.now() + 1_000)
    await tempo.release('lock')
    await tempo.release('lock')
    await tempo.release('never-claimed')
    expect(released).toEqual(['tempo:lock@ch_1'])
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
    await releaseAll(claims, ['a', 'b', 'c'], 'ch_1', logger)
    expect(released).toEqual(['a', 'c'])
    expect(errors).toMatchObject([{ key: 'b', challengeId: 'ch_1', error: { message: 'down' } }])
  })
})
