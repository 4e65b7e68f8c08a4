import { isIPv4, isIPv6 } from 'node:net'
import { z } from 'zod'
import { canonicalizePath } from '../http/canonical-path.js'
import { parseCidr } from '../http/cidr.js'
import {
  checked,
  checkDuration,
  checkHttpUrl,
  checkPositiveInteger,
  durationMs,
  isProblem,
  nonEmptyString,
  type Problem,
  stringList,
} from './fields.js'
import { headerNameProblem } from './header-name.js'
import { LIMIT_DEFAULTS, LIMIT_KEYS, limitRelationProblems } from './limits.js'
import { isPlaceholder } from './placeholders.js'
import { kind, nested, show } from './issues.js'

/**
 * The zod schemas of the top-level blocks the loader checks with checkSchema. Each block parses to
 * the shape GatewayConfig holds; the types in types.ts are their outputs. The rules across blocks
 * (store and secretKey, workers, methods and routes, limits) are in cross-checks.ts, applied by the
 * loader (load.ts); admin has its own schema in admin.ts.
 */

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** `log: { level }` */
export const logSchema = z
  .strictObject({
    level: z
      .string()
      .default('info')
      .transform((level, ctx): LogLevel => {
        const known = LOG_LEVELS.find((l) => l === level)
        if (known) return known
        ctx.addIssue({ code: 'custom', message: `${show(level)} is not a log level (use ${LOG_LEVELS.join(', ')})` })
        return z.NEVER
      }),
  })
  .transform(({ level }) => level)

/**
 * `recovery: { window }`: how long after its first claim a settled payment that was not served
 * (the payer left, a replica died) is still served to the same credential, without paying again.
 * Default: the challenge TTL plus 10 minutes.
 */
export const recoverySchema = (challengeTtlMs: number) =>
  z
    .strictObject({ window: durationMs(`${challengeTtlMs + 600_000}ms`, 0) })
    .transform(({ window }) => ({ windowMs: window }))

/** `shutdown: { grace, timeout }` */
export const shutdownSchema = z
  .strictObject({
    /** how long readiness reports 503 before new connections are refused */
    grace: durationMs('5s', 0),
    /** how long in-flight requests (streams included) may take to finish after that */
    timeout: durationMs('30s', 0),
  })
  .transform(({ grace, timeout }) => ({ graceMs: grace, timeoutMs: timeout }))

/** A discovery document's path, or false to serve none. */
const discoveryPath = (fallback: string) =>
  z
    .unknown()
    .optional()
    .transform((value, ctx): string | undefined => {
      if (value === false) return undefined
      if (value === undefined) return fallback
      if (typeof value === 'string' && /^\/[A-Za-z0-9._~/-]*$/.test(value) && !value.startsWith('/__gateway/'))
        return value
      ctx.addIssue({
        code: 'custom',
        message: 'must be a path like "/openapi.json" (outside /__gateway/), or false to turn it off',
      })
      return z.NEVER
    })

/** `discovery: { openapi, llms }`: paths of the generated discovery documents; absent: not served. */
export const discoverySchema = z
  .strictObject({ openapi: discoveryPath('/openapi.json'), llms: discoveryPath('/llms.txt') })
  .transform(({ openapi, llms }) => ({
    ...(openapi ? { openapiPath: openapi } : {}),
    ...(llms ? { llmsPath: llms } : {}),
  }))

const watchPoll = z.strictObject({ poll: durationMs('2s', 100) })

/**
 * `watch: true | false | { poll: "2s" }`: reload when the file changes; `poll` also compares the
 * file's stat that often, where file events do not arrive (some bind mounts).
 */
export const watchSchema = z
  .unknown()
  .optional()
  .transform((value, ctx): { watch: boolean; watchPollMs?: number } => {
    if (value === undefined) return { watch: true }
    if (typeof value === 'boolean') return { watch: value }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: `must be true, false or { poll: "2s" } (got ${kind(value)})` })
      return z.NEVER
    }
    const block = nested(watchPoll, value, ctx)
    return block === undefined ? z.NEVER : { watch: true, watchPollMs: block.poll }
  })

/** `cors: { origins, maxAge, credentials }`; absent: no CORS headers at all. */
export const corsSchema = z
  .strictObject({
    origins: z.unknown().optional(),
    maxAge: z.unknown().optional(),
    credentials: z.unknown().optional(),
  })
  .transform((raw, ctx) => {
    const report = (path: Array<string | number>, message: string) => {
      ctx.addIssue({ code: 'custom', path, message })
      return false
    }
    let ok = true
    const origins: string[] = []
    if (raw.origins !== undefined && !Array.isArray(raw.origins))
      ok = report(['origins'], `must be a list of strings (got ${kind(raw.origins)})`)
    else
      for (const [i, item] of (raw.origins ?? []).entries()) {
        if (typeof item === 'string') origins.push(item)
        else ok = report(['origins', i], `must be a string (got ${kind(item)})`)
      }
    if (origins.length === 0) {
      report(['origins'], 'must list at least one origin like "https://app.example.com", or "*"')
      return z.NEVER
    }
    origins.forEach((origin, i) => {
      if (origin === '*') return
      let url: URL | undefined
      try {
        url = new URL(origin)
      } catch {}
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin)
        ok = report(
          ['origins', i],
          `${show(origin)} is not an origin (scheme://host[:port], no path or trailing slash)`,
        )
    })
    const maxAge = checkDuration(raw.maxAge, '10m', 0)
    if (typeof maxAge !== 'number') ok = report(['maxAge'], maxAge.problem)
    let credentials = false
    if (typeof raw.credentials === 'boolean') credentials = raw.credentials
    else if (raw.credentials !== undefined)
      ok = report(['credentials'], `must be true or false (got ${kind(raw.credentials)})`)
    if (credentials && origins.includes('*'))
      ok = report(
        ['credentials'],
        'cannot be true with origins "*": any site could then call the API with its visitors\' cookies; list the origins',
      )
    if (!ok || typeof maxAge !== 'number') return z.NEVER
    return {
      /** allowed origins; ["*"] allows any */
      origins: origins as readonly string[],
      /** how long a browser may cache a preflight answer */
      maxAgeSeconds: Math.floor(maxAge / 1000),
      /** send `Access-Control-Allow-Credentials: true` (allowlist only; never with "*"); absent: never */
      ...(credentials ? { credentials: true as const } : {}),
    }
  })

/** Reads a value with a check; on a problem reports it at `path` and carries on with `fallback`. */
function orFallback<T>(ctx: z.RefinementCtx, path: string, result: T | Problem, fallback: T): T {
  if (!isProblem(result)) return result
  ctx.addIssue({ code: 'custom', path: [path], message: result.problem })
  return fallback
}

/** `{ limit, window }`: `limit` events per client IP per window; the window is read first, as ever. */
const budget = (defaultWindow: string, what: string) =>
  z.strictObject({ limit: z.unknown().optional(), window: z.unknown().optional() }).transform((raw, ctx) => {
    const window = checkDuration(raw.window, defaultWindow, 1000)
    const windowMs = typeof window === 'number' ? window : orFallback(ctx, 'window', { problem: window.problem }, 0)
    const limit = orFallback(
      ctx,
      'limit',
      checkPositiveInteger(raw.limit, `a positive integer number of ${what} per window`),
      0,
    )
    return { limit, windowMs }
  })

/** a per-payment deposit 402 costs a Stripe call: this budget applies unless rateLimit.depositIntents says otherwise */
const DEFAULT_DEPOSIT_INTENT_BUDGET = { limit: 60, windowMs: 60_000 }

/** `rateLimit: { challenges, depositIntents }`, as GatewayConfig's challengeRateLimit and depositIntentRateLimit. */
export const rateLimitSchema = z
  .strictObject({
    /** per-client-IP budget of 402 challenges; absent: unlimited */
    challenges: budget('1m', 'challenges').optional(),
    /** per-client-IP budget of 402s that create a Stripe deposit PaymentIntent (per-payment deposit routes) */
    depositIntents: budget('1m', '402s that create a Stripe deposit PaymentIntent').optional(),
  })
  .transform(({ challenges, depositIntents }) => ({
    ...(challenges ? { challengeRateLimit: challenges } : {}),
    depositIntentRateLimit: depositIntents ?? DEFAULT_DEPOSIT_INTENT_BUDGET,
  }))

export type RateBudget = Readonly<NonNullable<z.output<typeof rateLimitSchema>['challengeRateLimit']>>

/** below this a limits timeout would cut ordinary clients on a busy network */
const MIN_LIMIT_TIMEOUT_MS = 100

/**
 * `limits:`, bounds on what one gateway process holds for clients. A bad value is reported and its
 * default stands in, so the relations between the limits are still checked.
 */
export const limitsSchema = z
  .strictObject(Object.fromEntries(LIMIT_KEYS.map((key) => [key, z.unknown().optional()])))
  .transform((raw, ctx) => {
    const d = LIMIT_DEFAULTS
    const timeout = (key: 'bodyTimeout' | 'headersTimeout' | 'keepAliveTimeout' | 'requestTimeout') => {
      const ms = checkDuration(raw[key], d[key], MIN_LIMIT_TIMEOUT_MS)
      return typeof ms === 'number' ? ms : orFallback(ctx, key, { problem: ms.problem }, ms.fallbackMs)
    }
    const count = (key: 'bufferedBytes' | 'maxConnections', unit: string) =>
      raw[key] === undefined
        ? d[key]
        : orFallback(ctx, key, checkPositiveInteger(raw[key], `a positive integer number of ${unit}`), d[key])
    const limits = {
      /** a priced request's body not fully received by then: 408, connection closed */
      bodyTimeoutMs: timeout('bodyTimeout'),
      /** request-body bytes buffered at once across the process; beyond it 503 + Retry-After */
      bufferedBytes: count('bufferedBytes', 'bytes') as number,
      /** open client connections (Node's server.maxConnections); more are closed at once */
      maxConnections: count('maxConnections', 'connections') as number,
      /** Node's headersTimeout: a request's headers not received by then get 408 */
      headersTimeoutMs: timeout('headersTimeout'),
      /** Node's keepAliveTimeout: how long an idle keep-alive connection stays open */
      keepAliveTimeoutMs: timeout('keepAliveTimeout'),
      /** Node's requestTimeout: a whole request not received by then gets 408 */
      requestTimeoutMs: timeout('requestTimeout'),
    }
    for (const [key, problem] of limitRelationProblems(limits))
      ctx.addIssue({ code: 'custom', path: [key], message: problem })
    return limits
  })

/** It is sent as a quoted-string auth parameter. */
export const realmSchema = nonEmptyString().refine(
  (realm) => /^[\x20-\x7e]*$/.test(realm) && !/["\\]/.test(realm),
  "must be printable ASCII without '\"' or '\\'",
)

/** lower-case ISO 4217 code of route prices */
export const currencySchema = z
  .string()
  .default('usd')
  .superRefine((code, ctx) => {
    if (!/^[A-Za-z]{3}$/.test(code))
      ctx.addIssue({ code: 'custom', message: `${show(code)} must be a 3-letter ISO 4217 code like "usd"` })
  })
  .transform((code) => code.toLowerCase())

/** peers (CIDRs) whose X-Forwarded-For is believed when finding the client IP */
export const trustedProxiesSchema = stringList<string>((text) =>
  parseCidr(text)
    ? text
    : { problem: `${show(text)} is not an IP address or CIDR block like "10.0.0.0/8" or "fd00::/8"` },
).transform((list) => list ?? [])

const MIN_SECRET_BYTES = 32

/** An HMAC key: absent or empty means none; otherwise long enough to resist guessing. Never echoed. */
function checkSecret(key: string): string | undefined | Problem {
  if (key === '') return undefined
  if (isPlaceholder(key))
    return {
      problem: 'is a placeholder copied from the examples; set a random key (openssl rand -base64 32)',
      aboutKey: true,
    }
  const bytes = Buffer.byteLength(key, 'utf8')
  if (bytes < MIN_SECRET_BYTES)
    return {
      problem: `is too short (${bytes} bytes); use at least ${MIN_SECRET_BYTES} random bytes, e.g. from \`openssl rand -base64 32\``,
    }
  return key
}

/** `secretKey`: the challenge key; undefined when none is configured (the server then makes one up and warns). */
export const secretKeySchema = z
  .string()
  .optional()
  .transform((key, ctx): string | undefined => {
    const checked = key === undefined ? undefined : checkSecret(key)
    if (!isProblem(checked)) return checked
    // a placeholder is a problem of the key as a whole; a note about its variables would be noise
    ctx.addIssue({
      code: 'custom',
      message: checked.problem,
      ...(checked.aboutKey ? { params: { aboutValue: false } } : {}),
    })
    return z.NEVER
  })

/** `previousSecretKeys`: keys whose challenges are still accepted after a rotation. */
export const previousSecretKeysSchema = stringList(checkSecret).transform((keys): string[] =>
  (keys ?? []).filter((key) => key !== undefined),
)

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/

/** "host:port", ":port" (every interface) or "[ipv6]:port". */
export function checkListen(text: string): { host: string; port: number } | Problem {
  const usage = `${show(text)} must be "host:port", ":port" or "[ipv6]:port"`
  let host: string
  let portText: string
  if (text.startsWith('[')) {
    const end = text.indexOf(']')
    if (end === -1 || text[end + 1] !== ':') return { problem: usage }
    host = text.slice(1, end)
    portText = text.slice(end + 2)
    if (!isIPv6(host)) return { problem: `${show(host)} is not an IPv6 address` }
  } else {
    const colon = text.lastIndexOf(':')
    if (colon === -1) return { problem: usage }
    host = text.slice(0, colon) || '0.0.0.0'
    portText = text.slice(colon + 1)
    if (host.includes(':')) return { problem: `${usage} (IPv6 addresses go in brackets)` }
    if (!isIPv4(host) && !HOSTNAME.test(host)) return { problem: `${show(host)} is not a valid host` }
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return { problem: usage }
  const port = Number(portText)
  if (port > 65535) return { problem: `port ${port} is out of range (0-65535)` }
  return { host, port }
}

export const DEFAULT_LISTEN = { host: '0.0.0.0', port: 8402 }

/** `listen`: where the public port binds. */
export const listenSchema = checked<{ host: string; port: number }>((value) => {
  if (value === undefined) return DEFAULT_LISTEN
  // `listen: 8402` is a natural slip; say what shape is wanted.
  if (typeof value === 'number') return { problem: 'must be a quoted string like ":8402" (got a number)' }
  if (typeof value !== 'string') return { problem: `must be a string (got ${kind(value)})` }
  return checkListen(value)
})

const MAX_WORKERS = 64

/** `workers`: gateway processes sharing the listening port (node:cluster). */
export const workersSchema = checked<number>((value) => {
  if (value === undefined) return 1
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= MAX_WORKERS) return value
  return {
    problem: `must be a whole number from 1 to ${MAX_WORKERS} (got ${typeof value === 'number' ? String(value) : kind(value)})`,
  }
})

/** `upstream.url: "example"`: the bundled example API of the sample config, whose URL the running process knows */
export const EXAMPLE_UPSTREAM = 'example'

/** `upstream: { url, timeout, stripRequestHeaders }`; the url is `"example"` or an http(s) base URL. */
export const upstreamSchema = z.strictObject({
  url: nonEmptyString().transform((text, ctx): URL | typeof EXAMPLE_UPSTREAM => {
    if (text === EXAMPLE_UPSTREAM) return text
    const url = checkHttpUrl(text)
    if (url instanceof URL) return url
    ctx.addIssue({ code: 'custom', message: url.problem })
    return z.NEVER
  }),
  timeout: durationMs('30s', 1),
  /** lower-cased request header names stripped before forwarding, beyond the built-in rerouting ones */
  stripRequestHeaders: stringList<string>((name) => {
    const problem = headerNameProblem(name)
    return problem ? { problem } : name.toLowerCase()
  }).transform((names) => names ?? []),
})

/** `store: { url, keyPrefix }`: Redis for replicas that share single use; absent url: in memory. */
export const storeSchema = z
  .strictObject({
    url: z
      .string()
      .optional()
      .superRefine((url, ctx) => {
        if (!url) return
        // Never echoed: a Redis URL often carries its password.
        if (!URL.canParse(url))
          ctx.addIssue({
            code: 'custom',
            message: 'is not a valid URL (expected redis://host:port or rediss://host:port)',
          })
        else if (!['redis:', 'rediss:'].includes(new URL(url).protocol))
          ctx.addIssue({ code: 'custom', message: 'must start with redis:// or rediss://' })
      }),
    keyPrefix: z.string().default('mppgw:'),
  })
  .transform(({ url, keyPrefix }): { url?: string; keyPrefix: string } => (url ? { url, keyPrefix } : { keyPrefix }))

const MODES = ['enforce', 'shadow'] as const
/** shadow: forward as if free, but count and log the 402 a route would have sent */
export type RouteMode = (typeof MODES)[number]

/** `mode`, at the top level or on a route; absent: the level above decides. */
export const modeSchema = checked<RouteMode | undefined>((value) => {
  if (value === undefined) return undefined
  const mode = MODES.find((m) => m === value)
  if (mode) return mode
  return {
    problem: `${typeof value === 'string' ? show(value) : kind(value)} is not a mode (use "enforce" or "shadow")`,
  }
})

/** `routing: { caseSensitive }`: how every route matches unless it says otherwise. */
export const routingSchema = z.strictObject({ caseSensitive: z.boolean().default(false) })

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const problem = (text: string): Problem => ({ problem: text })

/** A route's `match`, "METHOD /path": the upper-case method (or "*") and a canonical Hono path pattern. */
export function checkMatch(text: string): { method: string; path: string } | Problem {
  const parts = /^(\S+) +(\S+)$/.exec(text)
  if (!parts) return problem(`${show(text)} must be "METHOD /path", e.g. "GET /v1/models"`)
  const method = parts[1]!.toUpperCase()
  const path = parts[2]!
  if (method !== '*' && !HTTP_METHODS.includes(method)) {
    return problem(`unknown HTTP method ${show(parts[1]!)} (use ${HTTP_METHODS.join(', ')} or *)`)
  }
  if (!path.startsWith('/')) return problem(`path ${show(path)} must start with "/"`)
  if (path.includes('%')) {
    // The router matches percent-decoded request paths, so an escaped pattern would never match.
    return problem(`path ${show(path)} must not contain percent-escapes`)
  }
  const canonical = canonicalizePath(path)
  if (!canonical.ok) return problem(`path ${show(path)} is not acceptable: ${canonical.reason}`)
  if (canonical.path !== path)
    return problem(`path ${show(path)} is not in canonical form; write ${show(canonical.path)}`)
  // The gateway's own paths match in any case, like routes.
  if (/^\/__gateway(?:\/|$)/i.test(path)) return problem('paths under /__gateway/ are reserved for the gateway')
  const segments = path.split('/').slice(1)
  const params = new Set<string>()
  for (const [i, segment] of segments.entries()) {
    if (segment === '*') {
      if (i !== segments.length - 1) return problem('"*" is only allowed as the last segment')
    } else if (segment.startsWith(':')) {
      const name = segment.slice(1)
      if (!PARAM_NAME.test(name))
        return problem(
          `invalid parameter ${show(segment)} (a name is a letter or "_" followed by letters, digits or "_")`,
        )
      if (params.has(name)) return problem(`parameter ":${name}" is used twice`)
      params.add(name)
    } else if (segment.includes('*')) {
      return problem('"*" is only allowed as a whole last segment')
    }
  }
  return { method, path }
}

/** A route's description: it travels in an HTTP header; empty counts as none. */
export const descriptionSchema = z
  .string()
  .optional()
  .refine(
    (text) => text === undefined || /^[\x20-\x7e]*$/.test(text),
    'must be printable ASCII (it is sent in an HTTP header)',
  )
  .transform((text) => (text === '' ? undefined : text))
