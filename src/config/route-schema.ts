import { z } from 'zod'
import {
  checkDecimal,
  checked,
  checkPayee,
  checkPositiveInteger,
  checkTokenUnits,
  durationMs,
  isProblem,
  type Problem,
  stringList,
  UNQUOTED_HEX,
} from './fields.js'
import { parseIdSource } from '../core/grants.js'
import { headerNameProblem } from './header-name.js'
import { kind, nested, show } from './issues.js'
import { checkMatch, descriptionSchema, modeSchema } from './schema.js'
import type { Hex } from './types.js'

/**
 * The zod schemas of one route's own fields. What depends on other routes or on the configured
 * methods (duplicates, shadowing, prices and `methods` against the methods, splits below the price)
 * is in cross-checks.ts.
 */

export const DEFAULT_MAX_BODY_BYTES = 1_048_576
/** draft-tempo-charge §Split Payments: servers SHOULD limit splits to 10 (gas within one block) */
export const MAX_SPLITS = 10

/** A required field from a check: what the check returns, less its problems, is the field's type. */
const required = <R>(check: (value: unknown) => R) =>
  checked<Exclude<R, Problem>>((value) =>
    value === undefined ? { problem: 'is required' } : (check(value) as Exclude<R, Problem> | Problem),
  )

/** "METHOD /path": the text as written, the upper-case method (or "*") and a canonical path pattern. */
export const matchSchema = required((value) => {
  if (typeof value !== 'string') return { problem: `must be a string (got ${kind(value)})` }
  const parsed = checkMatch(value)
  return isProblem(parsed) ? parsed : { match: value, ...parsed }
})

/** `free`, or a quoted decimal amount; "0" is a zero-amount charge (a payer proves who they are by signing). */
export const priceSchema = required((value) => {
  if (value === 'free') return { kind: 'free' as const }
  const amount = checkDecimal(value, '0.50')
  return isProblem(amount) ? amount : { kind: 'charge' as const, amount }
})

/** the methods a route offers, by name; absent: every configured one */
export const routeMethodsSchema = stringList().refine(
  (names) => names === undefined || names.length > 0,
  'must not be empty (leave it out to offer every configured method)',
)

/** largest request body buffered for a body digest; 413 beyond it */
export const maxBodyBytesSchema = checked((value) =>
  value === undefined ? DEFAULT_MAX_BODY_BYTES : checkPositiveInteger(value, 'a positive integer number of bytes'),
)

/** An optional bytes32; empty counts as absent. */
const memoSchema = checked<Hex | undefined>((value) => {
  if (value === undefined || value === '') return undefined
  if (typeof value === 'number') return { problem: UNQUOTED_HEX }
  if (typeof value !== 'string') return { problem: `must be a string (got ${kind(value)})` }
  if (!/^0x[0-9a-fA-F]{64}$/.test(value))
    return { problem: `must be a bytes32, "0x" followed by 64 hex digits (got ${value.length} characters)` }
  return value.toLowerCase() as Hex
})

/** One part of the price paid to another recipient (Tempo only). */
export const splitSchema = z
  .strictObject({
    recipient: required(checkPayee),
    /** in the gateway currency, like the route price; exact at the token's 6 decimals */
    amount: required((value) => {
      const amount = checkDecimal(value, '0.01')
      if (isProblem(amount)) return amount
      const units = checkTokenUnits(amount)
      return isProblem(units) ? units : amount
    }),
    /** bytes32, required on that transfer when set */
    memo: memoSchema,
  })
  .transform(({ memo, ...split }) => ({ ...split, ...(memo !== undefined ? { memo } : {}) }))

/** draft-tempo-charge §Split Payments: parts of the price paid to other recipients. */
export const splitsSchema = z
  .unknown()
  .optional()
  .transform((value, ctx): Array<z.output<typeof splitSchema>> | undefined => {
    if (value === undefined) return undefined
    if (!Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: `must be a list of splits (got ${kind(value)})` })
      return z.NEVER
    }
    if (value.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must list at least one split (leave it out for none)' })
      return z.NEVER
    }
    if (value.length > MAX_SPLITS)
      ctx.addIssue({ code: 'custom', message: `has ${value.length} entries; at most ${MAX_SPLITS} are allowed` })
    return nested(z.array(splitSchema), value, ctx) ?? z.NEVER
  })

/** `shadows: ok`: this route may take requests of a later one on purpose. */
export const shadowsSchema = checked((value) => {
  if (value === undefined || value === 'ok') return value === 'ok'
  return { problem: `must be "ok" (got ${typeof value === 'string' ? show(value) : kind(value)})` }
})

/** What a payment buys when the upstream fails after it (issue 13 §3): the defaults, `retry` for 10 minutes, 3 times. */
export const DEFAULT_UPSTREAM_FAILURE = { action: 'retry', windowMs: 600_000, maxRetries: 3 } as const

/**
 * `onUpstreamFailure: { action: "retry", window, maxRetries }`: after a 5xx, a header timeout or no
 * connection, the same credential is forwarded again within `window`, at most `maxRetries` times.
 */
export const upstreamFailureSchema = z
  .strictObject({
    action: checked<'retry'>((value) =>
      value === undefined || value === 'retry'
        ? ('retry' as const)
        : {
            problem: `must be "retry" (got ${typeof value === 'string' ? show(value) : kind(value)}; refunds are not built yet)`,
          },
    ),
    window: durationMs('10m', 0),
    maxRetries: checked<number>((value) => {
      if (value === undefined) return DEFAULT_UPSTREAM_FAILURE.maxRetries
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= 100) return value
      return {
        problem: `must be a whole number from 0 to 100 (got ${typeof value === 'number' ? String(value) : kind(value)})`,
      }
    }),
  })
  .transform(({ action, window, maxRetries }) => ({ action, windowMs: window, maxRetries }))

/**
 * `validate: { request: "POST /orders/validate", before: ["charge"] }` (issue 13 §2): the upstream
 * path that is asked, with the request's headers (not its credential) and body, whether the request
 * is acceptable, before it is charged (`charge`) and, with `challenge`, before a 402 is sent.
 */
export const validateSchema = z
  .strictObject({
    request: checked<{ method: string; path: string }>((value) => {
      if (typeof value !== 'string') return { problem: `must be "METHOD /path" (got ${kind(value)})` }
      const parsed = checkMatch(value)
      if (isProblem(parsed)) return parsed
      if (parsed.method === '*' || /(^|\/)(:|\*)/.test(parsed.path))
        return { problem: `must name one method and a literal path (got ${show(value)})` }
      return parsed
    }),
    before: checked<{ challenge: boolean; charge: boolean }>((value) => {
      if (value === undefined) return { challenge: false, charge: true }
      const steps = Array.isArray(value) ? value : [value]
      const unknown = steps.find((step) => step !== 'challenge' && step !== 'charge')
      if (steps.length === 0 || unknown !== undefined)
        return {
          problem: `must list "charge" and, to validate unpaid requests too, "challenge" (got ${show(String(unknown ?? '[]'))})`,
        }
      if (!steps.includes('charge'))
        return { problem: 'must include "charge": a request is validated before it is charged' }
      return { challenge: steps.includes('challenge'), charge: true }
    }),
  })
  .optional()

/** A grant's name: what `access.grant` refers to. */
const GRANT_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/
const grantNameSchema = required((value) => {
  if (typeof value !== 'string') return { problem: `must be a string (got ${kind(value)})` }
  if (!GRANT_NAME.test(value))
    return { problem: `${show(value)} is not a grant name (a letter, then letters, digits, "_" or "-")` }
  return value
})

/** The response header that carries a key, also the request header it is taken back from. */
const grantHeaderSchema = required((value) => {
  if (typeof value !== 'string') return { problem: `must be a string (got ${kind(value)})` }
  const problem = headerNameProblem(value)
  if (problem) return { problem: problem.replace('cannot be stripped', 'cannot carry a key') }
  if (value.toLowerCase() === 'payment-receipt' || value.toLowerCase().startsWith('x-forwarded-'))
    return { problem: `${show(value)} is set by the gateway itself and cannot carry a key` }
  return value
})

/**
 * `grant: { name, header, idFrom, ttl }` on a priced route: a 2xx answer mints a key for the id
 * the response names, returned in `header`; routes with `access: { grant: name }` take it.
 */
export const grantFields = {
  name: grantNameSchema,
  header: grantHeaderSchema,
  idFrom: required((value) => {
    if (typeof value !== 'string') return { problem: `must be a string (got ${kind(value)})` }
    const source = parseIdSource(value)
    return typeof source === 'string' ? { problem: source } : source
  }),
  /** how long a key works */
  ttl: durationMs('7d', 1000),
}
export const grantSchema = z
  .strictObject(grantFields)
  .transform(({ ttl, ...grant }) => ({ ...grant, ttlMs: ttl }))
  .optional()

/** `access: { grant, param }`: the route takes a key of that grant, for the id in its `:param`. */
export const accessFields = {
  grant: grantNameSchema,
  /** the parameter's name, with or without its ":" */
  param: required((value) => {
    if (typeof value !== 'string') return { problem: `must be a string (got ${kind(value)})` }
    return value.replace(/^:/, '')
  }),
}
export const accessSchema = z.strictObject(accessFields).optional()

/**
 * A route's fields, each with its own schema. The loader reads them one by one, in this order, so
 * that a bad field leaves the rest of the route for the checks across routes.
 */
export const routeFields = {
  match: matchSchema,
  price: priceSchema,
  description: descriptionSchema,
  methods: routeMethodsSchema,
  maxBodyBytes: maxBodyBytesSchema,
  splits: splitsSchema,
  mode: modeSchema,
  caseSensitive: z.boolean().optional(),
  shadows: shadowsSchema,
  onUpstreamFailure: upstreamFailureSchema,
  validate: validateSchema,
  grant: grantSchema,
  access: accessSchema,
}

/** Only the keys of a route, for did-you-mean on the others. */
export const routeKeysSchema = z.strictObject(
  Object.fromEntries(Object.keys(routeFields).map((key) => [key, z.unknown().optional()])),
)

export type RoutePrice = Readonly<z.output<typeof priceSchema>>
export type RouteSplit = Readonly<z.output<typeof splitSchema>>
export type UpstreamFailurePolicy = Readonly<z.output<typeof upstreamFailureSchema>>
export type RouteValidation = Readonly<NonNullable<z.output<typeof validateSchema>>>
export type RouteGrant = Readonly<NonNullable<z.output<typeof grantSchema>>>
export type RouteAccess = Readonly<NonNullable<z.output<typeof accessSchema>>>
