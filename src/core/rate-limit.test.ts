import { describe, expect, it } from 'vitest'
import { silentLogger } from '../log/logger.js'
import { createMemoryStore } from '../store/memory.js'
import type { RateCounter } from '../store/ports.js'
import { StoreUnavailable } from '../store/types.js'
import type { Count } from './outcome.js'
import { exceededBudget } from './rate-limit.js'

const budgets = { challenges: { limit: 2, windowMs: 1_000 }, backendObjects: { limit: 1, windowMs: 60_000 } }

describe('exceededBudget', () => {
  it('allows `limit` 402s per client per window, then names the budget', async () => {
    const store = createMemoryStore()
    const check = (clientIp: string) =>
      exceededBudget(store, silentLogger, () => {}, { clientIp, createsBackendObject: false }, budgets)
    expect(await check('a')).toBeUndefined()
    expect(await check('a')).toBeUndefined()
    expect(await check('a')).toEqual({ budget: budgets.challenges, what: 'payment challenges' })
    expect(await check('b')).toBeUndefined()
  })

  it('holds 402s that create a backend object to their own budget as well', async () => {
    const store = createMemoryStore()
    const check = (createsBackendObject: boolean) =>
      exceededBudget(
        store,
        silentLogger,
        () => {},
        { clientIp: 'a', createsBackendObject },
        { ...budgets, challenges: undefined },
      )
    expect(await check(true)).toBeUndefined()
    expect(await check(false)).toBeUndefined()
    expect(await check(true)).toEqual({
      budget: budgets.backendObjects,
      what: 'payment challenges that create a Stripe PaymentIntent',
    })
  })

  it('counts under challenges:<ip> and deposit-intents:<ip>', async () => {
    const keys: string[] = []
    const counter: RateCounter = {
      countHit: async (key) => {
        keys.push(key)
        return 1
      },
    }
    await exceededBudget(
      counter,
      silentLogger,
      () => {},
      { clientIp: '192.0.2.1', createsBackendObject: true },
      budgets,
    )
    expect(keys).toEqual(['challenges:192.0.2.1', 'deposit-intents:192.0.2.1'])
  })

  it('fails open when the store is unreachable, counting a store error for each budget', async () => {
    const counts: Count[] = []
    const counter: RateCounter = { countHit: async () => Promise.reject(new StoreUnavailable('down')) }
    const exceeded = await exceededBudget(
      counter,
      silentLogger,
      (c) => counts.push(c),
      { clientIp: 'a', createsBackendObject: true },
      budgets,
    )
    expect(exceeded).toBeUndefined()
    expect(counts).toStrictEqual([
      { metric: 'backendError', args: ['store'] },
      { metric: 'backendError', args: ['store'] },
    ])
  })
})
