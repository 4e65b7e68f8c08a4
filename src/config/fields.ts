import { z } from 'zod'
import { parseDuration } from './duration.js'
import { formatDuration, kind, show } from './issues.js'

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
