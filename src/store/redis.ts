import { Redis } from 'ioredis'
import type { GrantRecord } from '../core/grants.js'
import type { StoreBundle } from './ports.js'
import { redisSettlements } from './redis-settlements.js'
import { type LedgerEntry, type LedgerState, type PaidOutcome, StoreUnavailable } from './types.js'

export interface RedisStoreOptions {
  url: string
  keyPrefix: string
  /** how long one command may take before the store counts as unreachable */
  commandTimeoutMs?: number
}

/**
 * INCR, and start the window's expiry on the first hit only (PEXPIRE … NX needs Redis 7, hence
 * the script): later hits must not push the end of the window out. Also re-arms a key that somehow
 * has no expiry, so a counter can never stick forever. One round trip, atomic on the server.
 */
const COUNT_HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
`

/** SET NX, or true when `owner` holds the key already; one round trip, atomic. */
const CLAIM_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[1], 'NX') then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[2] then return 1 end
return 0
`
/** DEL only when `owner` holds the key. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`

const LEDGER_FIELDS = [
  'challengeId',
  'route',
  'method',
  'amount',
  'currency',
  'reference',
  'settledAt',
  'upstreamStatus',
] as const
/** written only when set, so entries from before them read back as they were */
const OPTIONAL_LEDGER_FIELDS = ['state', 'outcome', 'bytesSent', 'bytesExpected'] as const

/** how far the Redis clock (stream ids) may run behind a gateway's clock (settledAt) */
const CLOCK_MARGIN_MS = 300_000
/** ledger entries read per round trip by recentLedger */
const LEDGER_PAGE = 500

/**
 * Redis-backed replay store, shared by every gateway replica on the same Redis.
 * Claims are `SET key 1 PXAT <expiry> NX` (one atomic round trip); the ledger is a Redis stream;
 * rate counters are fixed windows, INCR plus an expiry set by the first hit; pending jobs are a hash
 * per queue, kept without expiry until done; a grant is a key per key hash, JSON with PXAT.
 * Commands fail fast while Redis is down (no offline queue), so callers fail closed at once.
 */
export function createRedisStore(options: RedisStoreOptions): StoreBundle {
  const redis = new Redis(options.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    connectTimeout: 2000,
    // Keep trying to come back, at least twice a second: requests meanwhile get StoreUnavailable
    // (503), and a Redis that came back empty gets its new epoch only once we reconnect.
    retryStrategy: (attempt) => Math.min(100 * attempt, 500),
  })
  // Connection errors surface through the commands that fail; the event needs a listener so Node
  // does not treat it as unhandled.
  redis.on('error', () => {})
  const prefix = options.keyPrefix
  const ledgerKey = `${prefix}ledger`
  const epochKey = `${prefix}epoch`
  // A store without an epoch is new or was wiped: it gets one on every (re)connection, so only
  // challenges issued before then are refused (a persisted epoch is kept). The first connection
  // dates it from this store's creation: the process's own first challenges are not refused.
  const createdAt = Date.now()
  let connected = false
  redis.on('ready', () => {
    const epoch = connected ? Date.now() : createdAt
    connected = true
    redis.set(epochKey, String(epoch), 'NX').catch(() => {})
  })
  const connecting = redis.connect().catch(() => {})

  async function run<T>(what: string, command: () => Promise<T>): Promise<T> {
    await connecting
    try {
      return await command()
    } catch (error) {
      throw new StoreUnavailable(`Redis ${what} failed: ${(error as Error).message}`, { cause: error })
    }
  }

  const settlements = redisSettlements(redis, prefix, run)

  return {
    description: `redis ${redactUrl(options.url)} (prefix "${prefix}")`,
    async claim(key, expiresAtMs, owner) {
      const result = await run('claim', () => redis.eval(CLAIM_SCRIPT, 1, `${prefix}claim:${key}`, expiresAtMs, owner))
      return Number(result) === 1
    },
    async release(key, owner) {
      await run('release', () => redis.eval(RELEASE_SCRIPT, 1, `${prefix}claim:${key}`, owner))
    },
    begin: settlements.begin,
    update: settlements.update,
    drop: settlements.drop,
    unfinished: settlements.unfinished,
    async record(entry) {
      const fields = LEDGER_FIELDS.flatMap((name) => [name, String(entry[name])])
      for (const name of OPTIONAL_LEDGER_FIELDS) if (entry[name] !== undefined) fields.push(name, String(entry[name]))
      await run('ledger write', () => redis.xadd(ledgerKey, '*', ...fields))
    },
    async ledger(limit = 1000) {
      const rows = await run('ledger read', () => redis.xrange(ledgerKey, '-', '+', 'COUNT', limit))
      return rows.map(([, flat]) => toEntry(flat))
    },
    async recentLedger(limit, settledSince) {
      // Stream ids are Redis's clock at the write, which comes after the settlement (a response can
      // stream for long) but may run behind the gateway's clock: stop a margin before `settledSince`.
      const oldest = settledSince === undefined ? '-' : String(Math.max(0, settledSince - CLOCK_MARGIN_MS))
      const found: LedgerEntry[] = []
      let newest = '+'
      while (found.length < limit) {
        const from = newest
        const count = Math.min(LEDGER_PAGE, limit - found.length)
        const rows = await run('ledger read', () => redis.xrevrange(ledgerKey, from, oldest, 'COUNT', count))
        for (const [, flat] of rows) {
          const entry = toEntry(flat)
          // an unreadable settledAt is kept: a filter never hides an entry it cannot date
          if (settledSince === undefined || !(Date.parse(entry.settledAt) < settledSince)) found.push(entry)
        }
        if (rows.length < count) break
        newest = `(${rows.at(-1)![0]}`
      }
      return found
    },
    async countHit(key, windowMs) {
      const count = await run('rate count', () =>
        redis.eval(COUNT_HIT_SCRIPT, 1, `${prefix}rate:${key}`, Math.max(1, Math.ceil(windowMs))),
      )
      return Number(count)
    },
    async addPending(queue, id, job) {
      await run('pending write', () => redis.hset(`${prefix}pending:${queue}`, id, job))
    },
    async listPending(queue, limit = 1000) {
      const jobs: Array<{ id: string; job: string }> = []
      let cursor = '0'
      do {
        const [next, flat] = await run('pending read', () =>
          redis.hscan(`${prefix}pending:${queue}`, cursor, 'COUNT', 100),
        )
        for (let i = 0; i + 1 < flat.length && jobs.length < limit; i += 2)
          jobs.push({ id: flat[i]!, job: flat[i + 1]! })
        cursor = next
      } while (cursor !== '0' && jobs.length < limit)
      return jobs
    },
    async removePending(queue, id) {
      await run('pending delete', () => redis.hdel(`${prefix}pending:${queue}`, id))
    },
    async putGrant(hash, record, keepUntilMs) {
      await run('grant write', () =>
        redis.set(`${prefix}grant:${hash}`, JSON.stringify(record), 'PXAT', Math.ceil(keepUntilMs)),
      )
    },
    async getGrant(hash) {
      const text = await run('grant read', () => redis.get(`${prefix}grant:${hash}`))
      return text === null ? undefined : toGrant(text)
    },
    async ping() {
      await run('ping', () => redis.ping())
    },
    async close() {
      await connecting
      redis.disconnect()
    },
  }
}

function toEntry(flat: string[]): LedgerEntry {
  const map = new Map<string, string>()
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i]!, flat[i + 1]!)
  const text = (name: string) => map.get(name) ?? ''
  return {
    challengeId: text('challengeId'),
    route: text('route'),
    method: text('method'),
    amount: text('amount'),
    currency: text('currency'),
    reference: text('reference'),
    settledAt: text('settledAt'),
    upstreamStatus: Number(text('upstreamStatus')),
    ...(map.has('state') ? { state: text('state') as LedgerState } : {}),
    ...(map.has('outcome') ? { outcome: text('outcome') as PaidOutcome } : {}),
    ...(map.has('bytesSent') ? { bytesSent: Number(text('bytesSent')) } : {}),
    ...(map.has('bytesExpected') ? { bytesExpected: Number(text('bytesExpected')) } : {}),
  }
}

/** A stored grant record, or undefined when it is not one (written by something else). */
function toGrant(text: string): GrantRecord | undefined {
  try {
    const { grant, id, expiresAt } = JSON.parse(text) as Record<string, unknown>
    if (typeof grant !== 'string' || typeof id !== 'string' || typeof expiresAt !== 'number') return undefined
    return { grant, id, expiresAt }
  } catch {
    return undefined
  }
}

/** Drops a password from a Redis URL before it goes into a log line. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'redis://(unparsable url)'
  }
}
