import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { SHARED_REDIS_URL, startRedisServer } from '../../test/support/redis-server.js'
import { createRedisStore } from './redis.js'
import { StoreUnavailable, type LedgerEntry } from './types.js'

const prefix = () => `test:store:${process.pid}:${Math.random().toString(36).slice(2)}:`
const entry: LedgerEntry = {
  challengeId: 'ch_1',
  route: 'GET /v1/cheap',
  method: 'stripe',
  amount: '50',
  currency: 'usd',
  reference: 'pi_1',
  settledAt: '2026-11-21T00:00:00.000Z',
  upstreamStatus: 200,
}

describe('redis store', () => {
  const stores: Array<ReturnType<typeof createRedisStore>> = []
  const open = (keyPrefix: string) => {
    const store = createRedisStore({ url: SHARED_REDIS_URL, keyPrefix })
    stores.push(store)
    return store
  }
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()))
  })

  it('lets exactly one owner claim a key (again, for that owner) until its owner releases it', async () => {
    const store = open(prefix())
    const expires = Date.now() + 60_000
    expect(await store.claim('tempo:tx:a', expires, 'ch_1')).toBe(true)
    expect(await store.claim('tempo:tx:a', expires, 'ch_2')).toBe(false)
    expect(await store.claim('tempo:tx:a', expires, 'ch_1')).toBe(true)
    await store.release('tempo:tx:a', 'ch_2')
    expect(await store.claim('tempo:tx:a', expires, 'ch_2')).toBe(false)
    await store.release('tempo:tx:a', 'ch_1')
    expect(await store.claim('tempo:tx:a', expires, 'ch_2')).toBe(true)
  })

  it('gives one winner among 50 concurrent claims from separate connections', async () => {
    const keyPrefix = prefix()
    const replicas = Array.from({ length: 5 }, () => open(keyPrefix))
    const expires = Date.now() + 60_000
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => replicas[i % 5]!.claim('tempo:tx:race', expires, `ch_${i}`)),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
  })

  it('frees a claim once its expiry has passed', async () => {
    const store = open(prefix())
    expect(await store.claim('tempo:tx:short', Date.now() + 100, 'ch_1')).toBe(true)
    await new Promise((r) => setTimeout(r, 250))
    expect(await store.claim('tempo:tx:short', Date.now() + 60_000, 'ch_2')).toBe(true)
  })

  it('keeps settled payments in the ledger stream', async () => {
    const store = open(prefix())
    await store.record(entry)
    await store.record({ ...entry, challengeId: 'ch_2', reference: 'pi_2', upstreamStatus: 0 })
    expect(await store.ledger()).toEqual([
      entry,
      { ...entry, challengeId: 'ch_2', reference: 'pi_2', upstreamStatus: 0 },
    ])
  })

  it('keeps what the payer got: the outcome and the bytes sent and expected', async () => {
    const store = open(prefix())
    const cut: LedgerEntry = { ...entry, outcome: 'cut', bytesSent: 5, bytesExpected: 2048 }
    const streamed: LedgerEntry = { ...entry, challengeId: 'ch_3', outcome: 'served', bytesSent: 12 }
    await store.record(cut)
    await store.record(streamed)
    const [first, second] = await store.ledger()
    expect(first).toStrictEqual(cut)
    expect(second).toStrictEqual(streamed)
  })

  it('counts hits 1, 2, 3 within a window, per key', async () => {
    const store = open(prefix())
    expect(await store.countHit('challenges:203.0.113.7', 60_000)).toBe(1)
    expect(await store.countHit('challenges:203.0.113.7', 60_000)).toBe(2)
    expect(await store.countHit('challenges:203.0.113.7', 60_000)).toBe(3)
    expect(await store.countHit('challenges:198.51.100.4', 60_000)).toBe(1)
  })

  it('starts a new window once the window has passed', async () => {
    const store = open(prefix())
    expect(await store.countHit('challenges:a', 200)).toBe(1)
    expect(await store.countHit('challenges:a', 200)).toBe(2)
    await new Promise((r) => setTimeout(r, 350))
    expect(await store.countHit('challenges:a', 200)).toBe(1)
  })

  it('keeps the window fixed: the expiry is set by the first hit, under <prefix>rate:<key>', async () => {
    const keyPrefix = prefix()
    const store = open(keyPrefix)
    await store.countHit('challenges:b', 60_000)
    const inspector = new Redis(SHARED_REDIS_URL)
    try {
      await inspector.pexpire(`${keyPrefix}rate:challenges:b`, 5_000)
      await store.countHit('challenges:b', 60_000)
      const ttl = await inspector.pttl(`${keyPrefix}rate:challenges:b`)
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(5_000)
      expect(await inspector.get(`${keyPrefix}rate:challenges:b`)).toBe('2')
    } finally {
      inspector.disconnect()
    }
  })

  it('shares one count between two gateway replicas on the same Redis', async () => {
    const keyPrefix = prefix()
    const [a, b] = [open(keyPrefix), open(keyPrefix)]
    expect(await a.countHit('challenges:203.0.113.7', 60_000)).toBe(1)
    expect(await b.countHit('challenges:203.0.113.7', 60_000)).toBe(2)
    expect(await a.countHit('challenges:203.0.113.7', 60_000)).toBe(3)
    const concurrent = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).countHit('challenges:race', 60_000)),
    )
    expect([...concurrent].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
  })

  it('keeps pending jobs until removed, shared between replicas, one per id', async () => {
    const keyPrefix = prefix()
    const [a, b] = [open(keyPrefix), open(keyPrefix)]
    await a.addPending('records', '0xaa', '{"n":1}')
    await a.addPending('records', '0xbb', '{"n":2}')
    await b.addPending('records', '0xaa', '{"n":3}')
    expect((await b.listPending('records')).sort((x, y) => x.id.localeCompare(y.id))).toEqual([
      { id: '0xaa', job: '{"n":3}' },
      { id: '0xbb', job: '{"n":2}' },
    ])
    expect(await a.listPending('other')).toEqual([])
    await b.removePending('records', '0xaa')
    expect(await a.listPending('records')).toEqual([{ id: '0xbb', job: '{"n":2}' }])
  })

  it('lists every pending job of a large queue, up to the limit', async () => {
    const store = open(prefix())
    await Promise.all(Array.from({ length: 700 }, (_, i) => store.addPending('big', `id${i}`, String(i))))
    const all = await store.listPending('big', 10_000)
    expect(new Set(all.map((j) => j.id)).size).toBe(700)
    expect(await store.listPending('big', 250)).toHaveLength(250)
  })

  it('keeps a grant record under <prefix>grant:<hash> until PXAT, shared between replicas', async () => {
    const keyPrefix = prefix()
    const [a, b] = [open(keyPrefix), open(keyPrefix)]
    const record = { grant: 'order', id: 'ord_1', expiresAt: Date.now() + 60_000 }
    const keepUntil = Date.now() + 120_000
    await a.putGrant('abc123', record, keepUntil)
    expect(await b.getGrant('abc123')).toEqual(record)
    expect(await b.getGrant('other')).toBeUndefined()
    const raw = new Redis(SHARED_REDIS_URL)
    try {
      expect(JSON.parse((await raw.get(`${keyPrefix}grant:abc123`))!)).toEqual(record)
      expect(Number(await raw.pexpiretime(`${keyPrefix}grant:abc123`))).toBe(keepUntil)
    } finally {
      raw.disconnect()
    }
  })

  it('fails fast with StoreUnavailable when Redis is down', async () => {
    const redis = await startRedisServer()
    const store = createRedisStore({ url: redis.url, keyPrefix: prefix() })
    stores.push(store)
    await store.ping()
    await redis.stop()
    const started = Date.now()
    await expect(store.claim('tempo:tx:x', Date.now() + 60_000, 'ch_1')).rejects.toBeInstanceOf(StoreUnavailable)
    await expect(store.countHit('challenges:x', 60_000)).rejects.toBeInstanceOf(StoreUnavailable)
    await expect(store.addPending('records', '0xaa', '{}')).rejects.toBeInstanceOf(StoreUnavailable)
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailable)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('keeps the Redis password out of its description', () => {
    const store = createRedisStore({ url: 'redis://:hunter2@127.0.0.1:1/0', keyPrefix: 'x:' })
    stores.push(store)
    expect(store.description).not.toContain('hunter2')
  })
})
