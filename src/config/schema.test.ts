import { describe, expect, it } from 'vitest'
import { checkSchema } from './issues.js'
import { corsSchema, limitsSchema, listenSchema, rateLimitSchema, storeSchema, watchSchema } from './schema.js'

const map = (entries: Record<string, unknown>) => new Map(Object.entries(entries))
const problems = (schema: Parameters<typeof checkSchema>[0], value: unknown, at: string) => {
  const checked = checkSchema(schema, value, at)
  return checked.ok ? [] : checked.issues.map(({ path, problem }) => `${path}: ${problem}`)
}

describe('config/schema.ts: the top-level blocks', () => {
  it('listen: the default, a port alone, and a number refused with the shape wanted', () => {
    expect(checkSchema(listenSchema, undefined, 'listen')).toEqual({ ok: true, data: { host: '0.0.0.0', port: 8402 } })
    expect(checkSchema(listenSchema, ':0', 'listen')).toEqual({ ok: true, data: { host: '0.0.0.0', port: 0 } })
    expect(problems(listenSchema, 8402, 'listen')).toEqual([
      'listen: must be a quoted string like ":8402" (got a number)',
    ])
  })

  it('watch: true, false, or a mapping with poll', () => {
    expect(checkSchema(watchSchema, false, 'watch')).toEqual({ ok: true, data: { watch: false } })
    expect(checkSchema(watchSchema, map({ poll: '5s' }), 'watch')).toEqual({
      ok: true,
      data: { watch: true, watchPollMs: 5000 },
    })
    expect(problems(watchSchema, map({ pol: '5s' }), 'watch')).toEqual([
      'watch.pol: unknown key (did you mean "poll"?)',
    ])
  })

  it('cors: origins first, then maxAge, then credentials', () => {
    expect(
      problems(corsSchema, map({ origins: ['*', 'https://a.example/'], maxAge: 5, credentials: true }), 'cors'),
    ).toEqual([
      'cors.origins[1]: "https://a.example/" is not an origin (scheme://host[:port], no path or trailing slash)',
      'cors.maxAge: must be a duration string like "10m" (got a number)',
      'cors.credentials: cannot be true with origins "*": any site could then call the API with its visitors\' cookies; list the origins',
    ])
  })

  it('rateLimit: the deposit-intent budget has a default; a budget reads its window before its limit', () => {
    expect(checkSchema(rateLimitSchema, map({}), 'rateLimit')).toEqual({
      ok: true,
      data: { depositIntentRateLimit: { limit: 60, windowMs: 60_000 } },
    })
    expect(problems(rateLimitSchema, map({ challenges: map({ window: '1s0', limit: 0 }) }), 'rateLimit')).toEqual([
      'rateLimit.challenges.window: "1s0" is not a duration (use e.g. "500ms", "30s", "5m", "1h" or "1m30s")',
      'rateLimit.challenges.limit: must be a positive integer number of challenges per window (got 0)',
    ])
  })

  it('limits: a bad value does not hide a relation between the others', () => {
    expect(
      problems(limitsSchema, map({ maxConnections: 'many', headersTimeout: '2m', requestTimeout: '1m' }), 'limits'),
    ).toEqual([
      'limits.maxConnections: must be a positive integer number of connections (got a string)',
      'limits.headersTimeout: (120000 ms) must not exceed limits.requestTimeout (60000 ms): Node requires headersTimeout ≤ requestTimeout',
    ])
  })

  it('store: an empty url means the in-memory store; a URL with a password is never echoed', () => {
    expect(checkSchema(storeSchema, map({ url: '' }), 'store')).toEqual({ ok: true, data: { keyPrefix: 'mppgw:' } })
    const found = problems(storeSchema, map({ url: 'http://user:hunter2@redis:6379' }), 'store')
    expect(found).toEqual(['store.url: must start with redis:// or rediss://'])
  })
})
