import { afterAll, describe, expect, it } from 'vitest'
import { SHARED_REDIS_URL } from '../../test/support/redis-server.js'
import type { BeginRequest, UpdateRequest } from '../core/settlement-record.js'
import { createMemoryStore } from './memory.js'
import type { StoreBundle } from './ports.js'
import { createRedisStore } from './redis.js'

/*
 * The settlement rules, run against both stores: the in-memory store applies
 * core/settlement-record.ts, Redis runs them as Lua. Both must answer every case alike.
 */

const T0 = Date.now()
const opened: StoreBundle[] = []
afterAll(() => Promise.all(opened.map((s) => s.close())))

const stores: Array<[string, () => StoreBundle]> = [
  ['memory', () => createMemoryStore({ now: () => T0 })],
  [
    'redis',
    () => {
      const store = createRedisStore({
        url: SHARED_REDIS_URL,
        keyPrefix: `test:settle:${process.pid}:${Math.random().toString(36).slice(2)}:`,
      })
      opened.push(store)
      return store
    },
  ],
]

const begin = (over: Partial<BeginRequest> = {}): BeginRequest => ({
  id: 'ch_1',
  fingerprint: 'fp_a',
  attempt: 'att_1',
  method: 'stripe',
  now: T0,
  leaseUntil: T0 + 10_000,
  forwardLeaseUntil: T0 + 20_000,
  keepUntil: T0 + 600_000,
  // after either store's epoch (the Redis one dates from the store's creation, after T0)
  issuedAt: T0 + 60_000,
  expired: false,
  ...over,
})
const update = (over: Partial<UpdateRequest> = {}): UpdateRequest => ({
  id: 'ch_1',
  attempt: 'att_1',
  fingerprint: 'fp_a',
  method: 'stripe',
  now: T0,
  keepUntil: T0 + 600_000,
  leaseUntil: T0 + 10_000,
  ...over,
})

describe.each(stores)('settlement records (%s store)', (_, open) => {
  it('claims once per challenge; the same credential takes a claimed record over, another one is refused', async () => {
    const store = open()
    expect(await store.begin(begin())).toStrictEqual({ kind: 'claimed' })
    // a claim that timed out on our side but ran: the same credential goes on
    expect(await store.begin(begin({ attempt: 'att_2' }))).toStrictEqual({ kind: 'claimed' })
    expect(await store.update(update({ state: 'settling' }))).toBe(false) // att_1 lost it
    expect(await store.begin(begin({ fingerprint: 'fp_b', attempt: 'att_3' }))).toStrictEqual({
      kind: 'taken',
      state: 'claimed',
    })
  })

  it('is busy while a settling lease runs, then hands the handle to a re-drive', async () => {
    const store = open()
    await store.begin(begin())
    expect(await store.update(update({ state: 'settling', handle: { txHash: '0xab' } }))).toBe(true)
    expect(await store.begin(begin({ attempt: 'att_2', now: T0 + 4_000 }))).toStrictEqual({
      kind: 'busy',
      state: 'settling',
      retryAfterMs: 6_000,
    })
    expect(await store.begin(begin({ attempt: 'att_2', now: T0 + 10_000, expired: true }))).toStrictEqual({
      kind: 'redrive',
      handle: { txHash: '0xab' },
    })
    expect(await store.update(update({ state: 'paid' }))).toBe(false)
    expect(await store.update(update({ attempt: 'att_2', state: 'paid', paid: '{"p":1}' }))).toBe(true)
  })

  it('forwards a paid record given up again, and refuses a served one; another credential never gets in', async () => {
    const store = open()
    await store.begin(begin())
    await store.update(update({ state: 'settling', handle: {} }))
    await store.update(update({ state: 'paid', paid: '{"p":1}', leaseUntil: T0 }))
    expect(await store.begin(begin({ fingerprint: 'fp_b', attempt: 'att_9' }))).toStrictEqual({
      kind: 'taken',
      state: 'paid',
    })
    expect(await store.begin(begin({ attempt: 'att_2' }))).toStrictEqual({ kind: 'paid', paid: '{"p":1}' })
    expect(await store.update(update({ attempt: 'att_2', state: 'served', upstreamStatus: 200, leaseUntil: T0 }))).toBe(
      true,
    )
    expect(await store.begin(begin({ attempt: 'att_3' }))).toStrictEqual({ kind: 'used', state: 'served' })
    expect(await store.begin(begin({ fingerprint: 'fp_b', attempt: 'att_4' }))).toStrictEqual({
      kind: 'taken',
      state: 'served',
    })
  })

  it('refuses an expired challenge without a record, and one issued before the store began (its epoch)', async () => {
    const store = open()
    expect(await store.begin(begin({ id: 'ch_old', expired: true }))).toStrictEqual({ kind: 'expired' })
    const stale = await store.begin(begin({ id: 'ch_old', issuedAt: T0 - 3_600_000 }))
    expect(stale.kind).toBe('stale')
    expect(await store.begin(begin({ id: 'ch_old' }))).toStrictEqual({ kind: 'claimed' })
  })

  it('lets another credential take a claimed record whose process died (nothing was sent)', async () => {
    const store = open()
    await store.begin(begin({ leaseUntil: T0 + 1_000 }))
    expect(await store.begin(begin({ fingerprint: 'fp_b', attempt: 'att_2', now: T0 + 1_000 }))).toStrictEqual({
      kind: 'claimed',
    })
    expect(await store.update(update({ state: 'settling' }))).toBe(false)
    // the new claim is fp_b's: fp_a's record is gone
    expect(await store.begin(begin({ attempt: 'att_3', now: T0 + 1_000 }))).toStrictEqual({
      kind: 'taken',
      state: 'claimed',
    })
  })

  it('drops a record for its owner only, and recreates one the store lost mid-flight for the attempt that holds it', async () => {
    const store = open()
    await store.begin(begin())
    await store.drop('ch_1', 'att_other')
    expect((await store.begin(begin({ fingerprint: 'fp_b', attempt: 'att_2' }))).kind).toBe('taken')
    await store.drop('ch_1', 'att_1')
    expect(await store.begin(begin({ fingerprint: 'fp_b', attempt: 'att_2' }))).toStrictEqual({ kind: 'claimed' })
    // never begun here (the store was wiped after the claim): the paid payment is kept, owned by its attempt
    expect(await store.update(update({ id: 'ch_2', attempt: 'att_5', state: 'paid', paid: '{"p":2}' }))).toBe(true)
    expect(await store.begin(begin({ id: 'ch_2', attempt: 'att_6', now: T0 + 10_000 }))).toStrictEqual({
      kind: 'paid',
      paid: '{"p":2}',
    })
  })

  it('forwards a failed record again within the retry window, at most maxRetries times, one at a time', async () => {
    const store = open()
    const retry = { windowMs: 60_000, maxRetries: 2 }
    await store.begin(begin())
    await store.update(update({ state: 'paid', paid: '{"p":1}' }))
    await store.update(update({ state: 'failed', upstreamStatus: 503, leaseUntil: T0 }))
    // without the policy, a failed record is used
    expect(await store.begin(begin({ attempt: 'att_2' }))).toStrictEqual({ kind: 'used', state: 'failed' })
    expect(await store.begin(begin({ attempt: 'att_2', retry }))).toStrictEqual({
      kind: 'retry',
      paid: '{"p":1}',
      retry: 1,
    })
    // a second presentation while the retry forwards waits for it
    expect(await store.begin(begin({ attempt: 'att_3', retry, now: T0 + 1_000 }))).toStrictEqual({
      kind: 'busy',
      state: 'paid',
      retryAfterMs: 19_000,
    })
    await store.update(update({ attempt: 'att_2', state: 'failed', upstreamStatus: 502, leaseUntil: T0 + 2_000 }))
    expect(await store.begin(begin({ attempt: 'att_4', retry, now: T0 + 3_000 }))).toMatchObject({ retry: 2 })
    await store.update(update({ attempt: 'att_4', state: 'failed', upstreamStatus: 503, leaseUntil: T0 + 4_000 }))
    // maxRetries spent
    expect(await store.begin(begin({ attempt: 'att_5', retry, now: T0 + 5_000 }))).toStrictEqual({
      kind: 'used',
      state: 'failed',
    })
    // another credential never gets a retry
    expect((await store.begin(begin({ fingerprint: 'fp_b', attempt: 'att_6', retry }))).kind).toBe('taken')
  })

  it('ends the retry window a window after the last failure, and never retries a served record', async () => {
    const store = open()
    const retry = { windowMs: 60_000, maxRetries: 3 }
    await store.begin(begin())
    await store.update(update({ state: 'paid', paid: '{"p":1}' }))
    await store.update(update({ state: 'failed', upstreamStatus: 504, leaseUntil: T0 }))
    expect(await store.begin(begin({ attempt: 'att_2', retry, now: T0 + 60_000 }))).toStrictEqual({
      kind: 'used',
      state: 'failed',
    })
    expect(await store.begin(begin({ attempt: 'att_2', retry, now: T0 + 59_999 }))).toMatchObject({ kind: 'retry' })
    await store.update(update({ attempt: 'att_2', state: 'served', upstreamStatus: 200, leaseUntil: T0 }))
    expect(await store.begin(begin({ attempt: 'att_3', retry }))).toStrictEqual({ kind: 'used', state: 'served' })
  })

  it('hands each unfinished record to the sweeper once, after its lease ended, and never a finished one', async () => {
    const store = open()
    await store.begin(begin({ id: 'ch_a', leaseUntil: T0 + 1_000 }))
    await store.begin(begin({ id: 'ch_b', leaseUntil: T0 + 50_000 }))
    await store.begin(begin({ id: 'ch_c', leaseUntil: T0 + 1_000 }))
    await store.update(update({ id: 'ch_c', state: 'served', leaseUntil: T0 }))
    const found = await store.unfinished(T0 + 2_000, 10)
    expect(found.map((f) => [f.id, f.record.state, f.record.fingerprint])).toEqual([['ch_a', 'claimed', 'fp_a']])
    expect(await store.unfinished(T0 + 2_000, 10)).toEqual([])
    expect((await store.unfinished(T0 + 60_000, 10)).map((f) => f.id)).toEqual(['ch_b'])
  })
})
