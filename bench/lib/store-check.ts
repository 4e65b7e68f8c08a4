import { randomBytes } from 'node:crypto'
import { createMemoryStore } from '../../src/store/memory.js'
import { createRedisStore } from '../../src/store/redis.js'
import type { StoreBundle } from '../../src/store/ports.js'

export interface StoreCheck {
  readonly claims: number
  readonly concurrency: number
  readonly redis: { claimsPerSecond: number; refusedReplays: number }
  readonly memory: {
    claimsPerSecond: number
    refusedReplays: number
    /** heap used before any claim, with all claims live, and after they expired and more claims came */
    heapMb: { before: number; live: number; afterExpiry: number }
    claimCount: { live: number; afterExpiry: number }
  }
}

/** Claims `count` fresh ids, `concurrency` in flight (as concurrent requests would), then replays a sample. */
async function claimMany(
  store: StoreBundle,
  count: number,
  concurrency: number,
  ttlMs: number,
): Promise<{ claimsPerSecond: number; refusedReplays: number; ids: string[] }> {
  const ids = Array.from(
    { length: count },
    (_, i) => `challenge:${i.toString(36)}:${randomBytes(8).toString('base64url')}`,
  )
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!
        if (!(await store.claim(id, Date.now() + ttlMs, 'first'))) throw new Error(`a fresh id was refused: ${id}`)
      }
    }),
  )
  const claimsPerSecond = count / ((performance.now() - started) / 1000)
  // Single use still holds at the end: every replay of a sample is refused.
  let refusedReplays = 0
  for (let i = 0; i < ids.length; i += Math.ceil(ids.length / 1000))
    if (!(await store.claim(ids[i]!, Date.now() + ttlMs, 'replay'))) refusedReplays++
  return { claimsPerSecond, refusedReplays, ids }
}

const heapMb = () => {
  globalThis.gc?.()
  return process.memoryUsage().heapUsed / 1024 / 1024
}

export async function runStoreCheck(o: {
  redisUrl: string
  claims: number
  log: (line: string) => void
}): Promise<StoreCheck> {
  const concurrency = 64
  o.log(`store check: ${o.claims} claims, ${concurrency} in flight`)

  const redis = createRedisStore({ url: o.redisUrl, keyPrefix: `bench:store:${Date.now()}:` })
  await redis.ping()
  const onRedis = await claimMany(redis, o.claims, concurrency, 60_000)
  await redis.close()
  onRedis.ids.length = 0 // so the memory figures below are the memory store's alone
  o.log(`  redis:  ${onRedis.claimsPerSecond.toFixed(0)} claims/s, ${onRedis.refusedReplays} replays refused`)

  // The memory store on a clock the check moves: claims expire after 1 s of that clock.
  let clock = Date.now()
  const memory = createMemoryStore({ now: () => clock })
  const before = heapMb()
  const ttlMs = 1000
  const claimAt = (store: StoreBundle): StoreBundle => ({
    ...store,
    claim: (key, _expires, owner) => store.claim(key, clock + ttlMs, owner),
  })
  const onMemory = await claimMany(claimAt(memory), o.claims, concurrency, ttlMs)
  onMemory.ids.length = 0
  const live = heapMb()
  const liveCount = memory.claimCount()
  // Everything expires; the next claims sweep it away, so memory returns to what live claims need.
  clock += 10 * ttlMs
  await claimMany(claimAt(memory), 10_000, concurrency, ttlMs)
  const afterExpiry = heapMb()
  const result: StoreCheck = {
    claims: o.claims,
    concurrency,
    redis: { claimsPerSecond: onRedis.claimsPerSecond, refusedReplays: onRedis.refusedReplays },
    memory: {
      claimsPerSecond: onMemory.claimsPerSecond,
      refusedReplays: onMemory.refusedReplays,
      heapMb: { before, live, afterExpiry },
      claimCount: { live: liveCount, afterExpiry: memory.claimCount() },
    },
  }
  o.log(
    `  memory: ${onMemory.claimsPerSecond.toFixed(0)} claims/s; heap ${before.toFixed(1)} → ${live.toFixed(1)} MB with ${liveCount} live claims → ${afterExpiry.toFixed(1)} MB (${memory.claimCount()} claims) after expiry`,
  )
  return result
}
