import { isIPv4, isIPv6 } from 'node:net'
import { z } from 'zod'
import { isProblem } from './fields.js'
import { kind, nested, notSet, show } from './issues.js'
import { checkListen } from './schema.js'

/** Shorter tokens are guessable by a patient scraper; `openssl rand -hex 32` gives 64 characters. */
export const MIN_ADMIN_TOKEN_LENGTH = 16

/**
 * True for hosts only this machine can reach: `localhost`, 127.0.0.0/8 and ::1 (also IPv4-mapped).
 * A listener without a token must bind to one of these; anything else (0.0.0.0, a pod IP, a name
 * that DNS could point anywhere) needs the token.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  if (bare.toLowerCase() === 'localhost') return true
  if (isIPv4(bare)) return bare.startsWith('127.')
  if (!isIPv6(bare)) return false
  const lower = bare.toLowerCase()
  if (lower.startsWith('::ffff:')) return isIPv4(lower.slice(7)) && lower.slice(7).startsWith('127.')
  // every spelling of ::1 (0:0:0:0:0:0:0:1, ::0:1, ...)
  const groups = expandIpv6(lower)
  return groups !== undefined && groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1
}

/** What is wrong with an admin token, never quoting it (it is a secret); undefined when it is fine. */
export function adminTokenProblem(token: string): string | undefined {
  if (/\s/.test(token)) return 'must not contain whitespace (a trailing newline from a file or Secret?)'
  if (!/^[\x21-\x7e]+$/.test(token)) return 'must be printable ASCII, as it is sent in an Authorization header'
  if (token.length < MIN_ADMIN_TOKEN_LENGTH)
    return `is too short: at least ${MIN_ADMIN_TOKEN_LENGTH} characters (openssl rand -hex 32)`
  return undefined
}

function expandIpv6(address: string): number[] | undefined {
  const [head = '', tail, ...rest] = address.split('::')
  if (rest.length > 0) return undefined
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)))
  const left = parse(head)
  const right = tail === undefined ? [] : parse(tail)
  if (left.some(Number.isNaN) || right.some(Number.isNaN)) return undefined
  const fill = tail === undefined ? 0 : 8 - left.length - right.length
  if (fill < 0) return undefined
  const groups = [...left, ...new Array<number>(fill).fill(0), ...right]
  return groups.length === 8 ? groups : undefined
}

/** where the admin listener binds when the config has no `admin` block: this machine only */
export const DEFAULT_ADMIN_LISTEN = '127.0.0.1:9402'

/** only the keys: the values are checked in order below, as they depend on one another */
export const adminKeys = z.strictObject({ listen: z.unknown().optional(), token: z.unknown().optional() })

const wildcard = (host: string) => host === '0.0.0.0' || host === '::'

/**
 * `admin: { listen, token }`, or `admin: false` for none. Absent: loopback only, no token. A
 * listener anyone else can reach must have a token, and the public port (`publicListen`) is not
 * the admin one. `unsetToken`: the unset variables admin.token named, for the reachable-listener
 * problem. The token is never quoted in an error.
 */
export function adminSchema(publicListen: { host: string; port: number } | undefined, unsetToken?: readonly string[]) {
  return z
    .unknown()
    .optional()
    .transform((value, ctx): { host: string; port: number; token?: string } | undefined => {
      const fail = (key: 'listen' | 'token' | undefined, message: string, aboutKey = false) => {
        ctx.addIssue({
          code: 'custom',
          ...(key ? { path: [key] } : {}),
          message,
          ...(aboutKey ? { params: { aboutValue: false } } : {}),
        })
        return z.NEVER
      }
      if (value === false) return undefined
      if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
        // a symbol: a `${...}` already reported
        if (typeof value === 'symbol') return z.NEVER
        return fail(
          undefined,
          `must be a mapping like { listen: "${DEFAULT_ADMIN_LISTEN}", token: "\${MPP_ADMIN_TOKEN}" }, or false (got ${kind(value)})`,
        )
      }
      const fields = (value ?? {}) as { listen?: unknown; token?: unknown }
      nested(adminKeys, fields, ctx)
      if (typeof fields.listen === 'number')
        return fail('listen', `must be a quoted string like "${DEFAULT_ADMIN_LISTEN}" (got a number)`)
      if (fields.listen !== undefined && typeof fields.listen !== 'string')
        fail('listen', `must be a string (got ${kind(fields.listen)})`)
      const listen = checkListen(typeof fields.listen === 'string' ? fields.listen : DEFAULT_ADMIN_LISTEN)
      if (isProblem(listen)) fail('listen', listen.problem)
      if (fields.token !== undefined && typeof fields.token !== 'string')
        fail('token', `must be a string (got ${kind(fields.token)})`)
      const token = typeof fields.token === 'string' ? fields.token : undefined
      if (isProblem(listen)) return z.NEVER
      if (
        publicListen &&
        listen.port !== 0 &&
        listen.port === publicListen.port &&
        (listen.host === publicListen.host || wildcard(listen.host) || wildcard(publicListen.host))
      ) {
        return fail('listen', `port ${listen.port} is the public port (listen); the admin port needs its own`)
      }
      if (token) {
        const problem = adminTokenProblem(token)
        return problem ? fail('token', problem, true) : { ...listen, token }
      }
      if (!isLoopbackHost(listen.host)) {
        const why = unsetToken ? ` (admin.token is empty: ${notSet(unsetToken)})` : ''
        return fail(
          'listen',
          `${show(listen.host)} is reachable from other machines: set admin.token${why}, or listen on 127.0.0.1`,
          true,
        )
      }
      return listen
    })
}

/** The admin listener: metrics, the live config and every other operator endpoint, off the public port. */
export type AdminConfig = Readonly<NonNullable<z.output<ReturnType<typeof adminSchema>>>>
