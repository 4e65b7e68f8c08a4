import { z } from 'zod'
import { parseAddress, ZERO_ADDRESS } from './address.js'
import { MAX_FRACTION_DIGITS, parseDecimal, TIP20_DECIMALS, toBaseUnits } from './amount.js'
import { parseDuration } from './duration.js'
import { formatDuration, kind, show } from './issues.js'
import type { Address, DecimalAmount } from './types.js'

/**
 * Value checks shared by the loader's own readers and the zod schemas of method sections, so a
 * duration or a URL gets the same message wherever it is written.
 */

const DURATION_HINT = 'use e.g. "500ms", "30s", "5m", "1h" or "1m30s"'

/** A duration value (absent: `fallback`) in ms, or the problem with it and the fallback to carry on with. */
export function checkDuration(
  value: unknown,
  fallback: string,
  minMs: number,
): number | { problem: string; fallbackMs: number } {
  const fallbackMs = parseDuration(fallback)!
  if (value === undefined) return fallbackMs
  if (typeof value !== 'string')
    return { problem: `must be a duration string like "${fallback}" (got ${kind(value)})`, fallbackMs }
  const ms = parseDuration(value)
  if (ms === undefined)
    return {
      problem: value === '' ? `is empty; ${DURATION_HINT}` : `${show(value)} is not a duration (${DURATION_HINT})`,
      fallbackMs,
    }
  if (ms < minMs) return { problem: `must be at least ${formatDuration(minMs)}`, fallbackMs }
  return ms
}

/** An http(s) URL without credentials, query or fragment; its base path loses any trailing slash. */
export function checkHttpUrl(text: string): URL | { problem: string } {
  // A URL may carry a password: echo it only when it cannot.
  const shown = text.includes('@') ? 'the URL' : show(text)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return { problem: `${shown} is not a valid URL` }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: `${shown} must use http or https` }
  if (url.username || url.password) return { problem: 'must not contain credentials (user:password@)' }
  if (text.includes('?')) return { problem: `${shown} must not contain a query` }
  if (text.includes('#')) return { problem: `${shown} must not contain a fragment` }
  // A base path is joined with request paths, so it carries no trailing slash.
  url.pathname = url.pathname.replace(/\/+$/, '') || '/'
  return url
}

// ---- zod fields ---------------------------------------------------------------------------------

/** A required string that must not be empty (after `${VAR}` expansion). */
export const nonEmptyString = () => z.string().refine((text) => text !== '', 'is empty')

/** An optional duration string ("30s"), parsed to ms; `fallback` when absent. */
export const durationMs = (fallback: string, minMs: number) =>
  z
    .unknown()
    .optional()
    .transform((value, ctx): number => {
      const checked = checkDuration(value, fallback, minMs)
      if (typeof checked === 'number') return checked
      ctx.addIssue({ code: 'custom', message: checked.problem })
      return z.NEVER
    })

/** An optional http(s) base URL as origin plus path ("https://api.stripe.com"); `fallback` when absent. */
export const httpBase = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx): string => {
      const url = checkHttpUrl(text)
      if (url instanceof URL) return url.pathname === '/' ? url.origin : url.origin + url.pathname
      ctx.addIssue({ code: 'custom', message: url.problem })
      return z.NEVER
    })

// ---- value checks shared by method sections and routes ------------------------------------------

/** What a check returns instead of a value when the value is wrong. */
export interface Problem {
  readonly problem: string
  /** a problem of the key as a whole (a placeholder), where a note about its value's variables is noise */
  readonly aboutKey?: true
}

export function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && 'problem' in value
}

export const UNQUOTED_HEX = 'must be a quoted string like "0x…" (YAML reads an unquoted 0x… as a number)'

/** A string value, or the problem with what is there instead. */
export function checkString(value: unknown): string | Problem {
  return typeof value === 'string' ? value : { problem: `must be a string (got ${kind(value)})` }
}

/** An address as written, in checksum form. */
export function checkAddress(value: unknown): Address | Problem {
  if (typeof value === 'number') return { problem: UNQUOTED_HEX }
  const text = checkString(value)
  if (isProblem(text)) return text
  if (text === '') return { problem: 'is empty' }
  const parsed = parseAddress(text)
  return parsed.ok ? parsed.address : { problem: parsed.problem }
}

/** An address that receives money: the zero address would burn it. */
export function checkPayee(value: unknown): Address | Problem {
  const address = checkAddress(value)
  return address === ZERO_ADDRESS ? { problem: 'is the zero address, which would burn the payment' } : address
}

/** every TIP-20 token address starts with this (its token id follows) */
const TIP20_PREFIX = '0x20c0'

export function checkToken(value: unknown): Address | Problem {
  const address = checkAddress(value)
  if (!isProblem(address) && !address.toLowerCase().startsWith(TIP20_PREFIX))
    return { problem: `${show(address)} is not a TIP-20 token address (those start with ${TIP20_PREFIX})` }
  return address
}

/** A quoted decimal amount such as "0.50", read exactly. */
export function checkDecimal(value: unknown, example: string): DecimalAmount | Problem {
  if (typeof value === 'number')
    return { problem: `must be a quoted decimal string like "${example}" (YAML numbers are floats)` }
  const text = checkString(value)
  if (isProblem(text)) return text
  const amount = parseDecimal(text)
  if (amount) return amount
  const fraction = /^[0-9]+\.([0-9]+)$/.exec(text)?.[1]
  if (fraction && fraction.length > MAX_FRACTION_DIGITS)
    return { problem: `${show(text)} has more than ${MAX_FRACTION_DIGITS} fraction digits` }
  return { problem: `${show(text)} is not a decimal amount` }
}

/** The amount in TIP-20 base units; it must be positive and exact at 6 decimals. */
export function checkTokenUnits(amount: DecimalAmount): bigint | Problem {
  const units = toBaseUnits(amount, TIP20_DECIMALS)
  if (units === undefined)
    return {
      problem: `${show(amount.text)} has more than ${TIP20_DECIMALS} fraction digits (TIP-20 tokens have ${TIP20_DECIMALS} decimals)`,
    }
  return units === 0n ? { problem: 'must be greater than zero' } : units
}

/** A positive whole number; `example` shows the kind of value wanted. */
export function checkPositiveInteger(value: unknown, wanted: string): number | Problem {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value
  return { problem: `must be ${wanted} (got ${typeof value === 'number' ? String(value) : kind(value)})` }
}

/** A zod field from a check: the check's problem becomes the field's issue. */
export const checked = <T>(check: (value: unknown) => T | Problem) =>
  z
    .unknown()
    .optional()
    .transform((value, ctx): T => {
      const result = check(value)
      if (!isProblem(result)) return result
      ctx.addIssue({ code: 'custom', message: result.problem })
      return z.NEVER
    })

/**
 * An optional list of strings, each item checked by `check` (a string, or its problem); the items
 * that pass, in order. Each bad item is reported at its index, so one does not hide the others.
 */
export const stringList = <T = string>(check: (text: string) => T | Problem = (text) => text as T) =>
  z
    .unknown()
    .optional()
    .transform((value, ctx): T[] | undefined => {
      if (value === undefined) return undefined
      if (!Array.isArray(value)) {
        ctx.addIssue({ code: 'custom', message: `must be a list of strings (got ${kind(value)})` })
        return z.NEVER
      }
      const out: T[] = []
      value.forEach((item: unknown, i) => {
        const result = typeof item === 'string' ? check(item) : { problem: `must be a string (got ${kind(item)})` }
        if (isProblem(result))
          ctx.addIssue({
            code: 'custom',
            path: [i],
            message: result.problem,
            ...(result.aboutKey ? { params: { aboutValue: false } } : {}),
          })
        else out.push(result)
      })
      return out
    })
