/**
 * Request-body binding for the challenge `digest` parameter. We emit the form mppx uses,
 * `sha-256=<padded standard base64>`, since mppx's challenge schema only accepts values starting
 * with "sha-256=" and its clients echo the value verbatim; we also accept RFC 9530's
 * `sha-256=:<base64>:` byte-sequence form, which the spec's own example uses.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import * as base64url from './base64url.js'

export function compute(body: Uint8Array): string {
  return `sha-256=${createHash('sha256').update(body).digest('base64')}`
}

/**
 * True when every sha-256 member of the (comma-list) digest value matches the body and there is
 * at least one. Members for other algorithms are ignored, as RFC 9530 lets receivers do.
 */
export function matches(digestParam: string, body: Uint8Array): boolean {
  const actual = createHash('sha256').update(body).digest()
  let seen = false
  for (const member of digestParam.split(',')) {
    const trimmed = member.trim()
    if (trimmed === '') continue
    const eq = trimmed.indexOf('=')
    if (eq <= 0) return false
    if (trimmed.slice(0, eq).trim().toLowerCase() !== 'sha-256') continue
    // Structured-field parameters (";key=value") may follow the value; they carry nothing we need.
    let value = trimmed
      .slice(eq + 1)
      .split(';')[0]!
      .trim()
    if (value.length >= 2 && value.startsWith(':') && value.endsWith(':')) value = value.slice(1, -1)
    let expected: Uint8Array
    try {
      expected = base64url.decode(value)
    } catch {
      return false
    }
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return false
    seen = true
  }
  return seen
}
