import type { Redis } from 'ioredis'
import type {
  BeginRequest,
  BeginResult,
  SettlementRecord,
  SettlementState,
  UpdateRequest,
} from '../core/settlement-record.js'
import type { Settlements } from './ports.js'

/*
 * The settlement rules of core/settlement-record.ts as Lua, one script per transition, so each is
 * atomic on the Redis server whatever the replicas do. A record is a hash `<prefix>settle:<id>`
 * that expires at its keepUntil; `<prefix>settle:open` indexes unfinished records by lease end
 * for the sweeper; `<prefix>epoch` marks when this store's memory began (a wipe removes it).
 * Keep the two in step: settlements.test.ts runs the same cases against both stores.
 */

/** Creates the record as `claimed` for ARGV; the shared tail of a fresh claim. */
const CLAIM_FRESH = `
local function fresh()
  if ARGV[7] == '1' then return {'expired'} end
  if tonumber(ARGV[6]) < tonumber(epoch) then return {'stale', epoch} end
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'state', 'claimed', 'fp', ARGV[1], 'attempt', ARGV[2], 'lease', ARGV[4],
    'method', ARGV[8], 'claimedAt', ARGV[3], 'keepUntil', ARGV[5])
  redis.call('PEXPIREAT', KEYS[1], ARGV[5])
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[9])
  return {'claimed'}
end
`

/**
 * KEYS: record, epoch, open index. ARGV: fingerprint, attempt, now, leaseUntil, keepUntil,
 * issuedAt, expired (1/0), method, id, forwardLeaseUntil, retry's maxRetries ('' for none), retry's windowMs.
 */
const BEGIN_SCRIPT = `
local now = tonumber(ARGV[3])
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  redis.call('SET', KEYS[2], ARGV[3])
  epoch = ARGV[3]
end
${CLAIM_FRESH}
local r = redis.call('HMGET', KEYS[1], 'state', 'fp', 'lease', 'handle', 'paid')
local state = r[1]
if not state then return fresh() end
local lease = tonumber(r[3])
if r[2] ~= ARGV[1] then
  if state == 'claimed' and lease <= now then return fresh() end
  return {'taken', state}
end
if state == 'failed' and ARGV[11] ~= '' then
  local retries = tonumber(redis.call('HGET', KEYS[1], 'retries') or '0')
  if retries < tonumber(ARGV[11]) and now < lease + tonumber(ARGV[12]) then
    redis.call('HSET', KEYS[1], 'state', 'paid', 'attempt', ARGV[2], 'lease', ARGV[10], 'retries', retries + 1)
    redis.call('ZADD', KEYS[3], ARGV[10], ARGV[9])
    return {'retry', r[5] or '', tostring(retries + 1)}
  end
end
if state == 'served' or state == 'failed' then return {'used', state} end
local function own()
  redis.call('HSET', KEYS[1], 'attempt', ARGV[2], 'lease', ARGV[4])
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[9])
end
if state == 'claimed' then own() return {'claimed'} end
if lease > now then return {'busy', state, tostring(lease - now)} end
if state == 'settling' then
  own()
  return {'redrive', r[4] or '{}'}
end
redis.call('HSET', KEYS[1], 'attempt', ARGV[2], 'lease', ARGV[10])
redis.call('ZADD', KEYS[3], ARGV[10], ARGV[9])
return {'paid', r[5] or ''}
`

/**
 * KEYS: record, open index. ARGV: attempt, state ('' keeps it), leaseUntil, keepUntil, fingerprint,
 * method, now, handle ('' keeps it), paid ('' keeps it), upstreamStatus ('' keeps it), id.
 * Returns 1, or 0 when another attempt owns the record.
 */
const UPDATE_SCRIPT = `
local cur = redis.call('HMGET', KEYS[1], 'attempt', 'state')
if cur[2] and cur[1] ~= ARGV[1] then return 0 end
if not cur[2] then
  redis.call('HSET', KEYS[1], 'state', 'claimed', 'fp', ARGV[5], 'attempt', ARGV[1], 'method', ARGV[6],
    'claimedAt', ARGV[7], 'keepUntil', ARGV[4])
  redis.call('PEXPIREAT', KEYS[1], ARGV[4])
end
redis.call('HSET', KEYS[1], 'lease', ARGV[3])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'state', ARGV[2]) end
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'handle', ARGV[8]) end
if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'paid', ARGV[9]) end
if ARGV[10] ~= '' then redis.call('HSET', KEYS[1], 'upstreamStatus', ARGV[10]) end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'served' or state == 'failed' then
  redis.call('ZREM', KEYS[2], ARGV[11])
else
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[11])
end
return 1
`

/** KEYS: record, open index. ARGV: attempt, id. Drops the record unless another attempt owns it. */
const DROP_SCRIPT = `
local attempt = redis.call('HGET', KEYS[1], 'attempt')
if attempt and attempt ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
`

type Run = <T>(what: string, command: () => Promise<T>) => Promise<T>

/** The Settlements port over Redis; `run` turns a failed command into StoreUnavailable. */
export function redisSettlements(redis: Redis, prefix: string, run: Run): Settlements {
  const recordKey = (id: string) => `${prefix}settle:${id}`
  const openKey = `${prefix}settle:open`
  const epochKey = `${prefix}epoch`
  return {
    async begin(request: BeginRequest): Promise<BeginResult> {
      const reply = (await run('settlement begin', () =>
        redis.eval(
          BEGIN_SCRIPT,
          3,
          recordKey(request.id),
          epochKey,
          openKey,
          request.fingerprint,
          request.attempt,
          request.now,
          request.leaseUntil,
          request.keepUntil,
          request.issuedAt,
          request.expired ? 1 : 0,
          request.method,
          request.id,
          request.forwardLeaseUntil,
          request.retry ? request.retry.maxRetries : '',
          request.retry ? request.retry.windowMs : 0,
        ),
      )) as string[]
      return beginResult(reply)
    },
    async update(request: UpdateRequest): Promise<boolean> {
      const reply = await run('settlement update', () =>
        redis.eval(
          UPDATE_SCRIPT,
          2,
          recordKey(request.id),
          openKey,
          request.attempt,
          request.state ?? '',
          request.leaseUntil,
          request.keepUntil,
          request.fingerprint,
          request.method,
          request.now,
          request.handle ? JSON.stringify(request.handle) : '',
          request.paid ?? '',
          request.upstreamStatus === undefined ? '' : String(request.upstreamStatus),
          request.id,
        ),
      )
      return Number(reply) === 1
    },
    async drop(id, attempt) {
      await run('settlement drop', () => redis.eval(DROP_SCRIPT, 2, recordKey(id), openKey, attempt, id))
    },
    async unfinished(cutoff, limit) {
      const ids = await run('settlement sweep', () => redis.zrangebyscore(openKey, '-inf', cutoff, 'LIMIT', 0, limit))
      const found: Array<{ id: string; record: SettlementRecord }> = []
      for (const id of ids) {
        // ZREM hands each one to exactly one replica's sweeper.
        if ((await run('settlement sweep', () => redis.zrem(openKey, id))) !== 1) continue
        const flat = await run('settlement sweep', () => redis.hgetall(recordKey(id)))
        if (flat.state) found.push({ id, record: recordOf(flat) })
      }
      return found
    },
  }
}

function beginResult(reply: string[]): BeginResult {
  const [kind, a, b] = reply
  switch (kind) {
    case 'claimed':
      return { kind }
    case 'redrive':
      return { kind, handle: JSON.parse(a ?? '{}') as Record<string, string> }
    case 'paid':
      return { kind, paid: a ?? '' }
    case 'retry':
      return { kind, paid: a ?? '', retry: Number(b) }
    case 'busy':
      return { kind, state: a as SettlementState, retryAfterMs: Number(b) }
    case 'used':
    case 'taken':
      return { kind, state: a as SettlementState }
    case 'expired':
      return { kind }
    case 'stale':
      return { kind, epoch: Number(a) }
    default:
      throw new Error(`settlement begin: unexpected reply ${String(kind)}`)
  }
}

function recordOf(flat: Record<string, string>): SettlementRecord {
  return {
    state: flat.state as SettlementState,
    fingerprint: flat.fp ?? '',
    attempt: flat.attempt ?? '',
    leaseUntil: Number(flat.lease),
    method: flat.method ?? '',
    claimedAt: Number(flat.claimedAt),
    keepUntil: Number(flat.keepUntil),
    ...(flat.handle ? { handle: JSON.parse(flat.handle) as Record<string, string> } : {}),
    ...(flat.paid ? { paid: flat.paid } : {}),
    ...(flat.upstreamStatus ? { upstreamStatus: Number(flat.upstreamStatus) } : {}),
    ...(flat.retries ? { retries: Number(flat.retries) } : {}),
  }
}
