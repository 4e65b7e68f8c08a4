/**
 * The Payment challenge (`WWW-Authenticate: Payment …`, draft-httpauth-payment §5.1): its wire
 * form and its HMAC-bound id (§5.1.2.1.1).
 */
import { Buffer } from 'node:buffer'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { splitElements, parseParam } from './auth-header.js'
import * as base64url from './base64url.js'
import { canonicalize } from './jcs.js'

export interface Challenge {
  id: string
  realm: string
  method: string
  intent: string
  /** base64url (no padding) of the JCS form of the method's request object. */
  request: string
  description?: string
  digest?: string
  expires?: string
  /** base64url (no padding) of the JCS form of a flat string→string map. */
  opaque?: string
}

/** The fields the id is computed over (description is display-only and deliberately unbound). */
export type BoundFields = Omit<Challenge, 'id' | 'description'>

/** base64url(JCS(value)): the encoding of `request` and `opaque`. */
export function encodeJson(value: unknown): string {
  return base64url.encode(canonicalize(value))
}

/** Inverse of encodeJson; throws on bad base64, bad UTF-8 or bad JSON. */
export function decodeJson(b64: string): unknown {
  return JSON.parse(base64url.decodeText(b64)) as unknown
}

/** The spec's seven positional slots joined with "|"; absent optional fields are empty slots. */
export function bindingInput(c: BoundFields): string {
  return [c.realm, c.method, c.intent, c.request, c.expires ?? '', c.digest ?? '', c.opaque ?? ''].join('|')
}

/** base64url_nopad(HMAC-SHA256(utf8(secretKey), utf8(bindingInput))). */
export function computeId(secretKey: string, c: BoundFields): string {
  return createHmac('sha256', secretKey).update(bindingInput(c), 'utf8').digest('base64url')
}

/**
 * Whether `c.id` was issued under one of `secretKeys` (several, so keys can rotate) for exactly
 * these fields. The echoed `request` and `opaque` are decoded and re-canonicalized first, as mppx
 * does for `request`: a client that re-encodes the same JSON (other key order, padding, standard
 * alphabet) still verifies, while any change to the data itself does not. Never throws.
 */
export function verifyId(secretKeys: readonly string[], c: Challenge): boolean {
  try {
    if (typeof c.id !== 'string' || c.id === '') return false
    // Callers may pass data straight from a parsed credential; anything but strings is forged.
    for (const field of [c.realm, c.method, c.intent, c.request]) if (typeof field !== 'string') return false
    for (const field of [c.expires, c.digest]) if (field !== undefined && typeof field !== 'string') return false
    const request = decodeJson(c.request)
    if (!isPlainObject(request)) return false
    const bound: BoundFields = {
      realm: c.realm,
      method: c.method,
      intent: c.intent,
      request: encodeJson(request),
      ...(c.expires !== undefined && { expires: c.expires }),
      ...(c.digest !== undefined && { digest: c.digest }),
    }
    if (c.opaque !== undefined) {
      const opaque = decodeJson(c.opaque)
      if (!isStringMap(opaque)) return false
      bound.opaque = encodeJson(opaque)
    }
    const presented = Buffer.from(c.id, 'utf8')
    let ok = false
    // Every key is tried even after a match, so timing does not reveal which key matched.
    for (const key of secretKeys) {
      const expected = Buffer.from(computeId(key, bound), 'utf8')
      if (expected.length === presented.length && timingSafeEqual(expected, presented)) ok = true
    }
    return ok
  } catch {
    return false
  }
}

/** Serializes in mppx's parameter order, every value a quoted-string. */
export function serialize(c: Challenge): string {
  if (c.id === '') throw new Error('challenge id must not be empty')
  const params: [string, string | undefined][] = [
    ['id', c.id],
    ['realm', c.realm],
    ['method', c.method],
    ['intent', c.intent],
    ['request', c.request],
    ['description', c.description],
    ['digest', c.digest],
    ['expires', c.expires],
    ['opaque', c.opaque],
  ]
  const parts: string[] = []
  for (const [name, value] of params) {
    if (value === undefined) continue
    parts.push(`${name}="${quote(name, value)}"`)
  }
  return `Payment ${parts.join(', ')}`
}

function quote(name: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`challenge parameter "${name}" contains CR or LF`)
  // Header values must be visible ASCII, space or tab; anything else (e.g. a non-ASCII
  // description) is refused here rather than sent as bytes clients may decode differently.
  if (!/^[\t\x20-\x7e]*$/.test(value))
    throw new Error(`challenge parameter "${name}" contains a character outside printable ASCII`)
  return value.replace(/[\\"]/g, (char) => `\\${char}`)
}

/**
 * Parses every Payment challenge in one field value (several may be folded into one line by
 * comma). Challenges of other schemes are skipped, and so are unknown parameters (the spec says
 * to ignore them). Throws on malformed syntax, duplicate parameters or a missing required one.
 */
export function parseList(header: string): Challenge[] {
  const challenges: Challenge[] = []
  for (const element of splitElements(header)) {
    if (element.scheme.toLowerCase() !== 'payment') continue
    const pieces = element.rest === '' ? element.params : [element.rest, ...element.params]
    const values = new Map<string, string>()
    for (const piece of pieces) {
      const { name, value } = parseParam(piece)
      if (values.has(name)) throw new Error(`duplicate challenge parameter "${name}"`)
      values.set(name, value)
    }
    const required = (name: string, nonEmpty: boolean): string => {
      const value = values.get(name)
      if (value === undefined) throw new Error(`challenge parameter "${name}" is missing`)
      if (nonEmpty && value === '') throw new Error(`challenge parameter "${name}" is empty`)
      return value
    }
    const challenge: Challenge = {
      id: required('id', true),
      realm: required('realm', false),
      method: required('method', true),
      intent: required('intent', true),
      request: required('request', true),
    }
    for (const name of ['description', 'digest', 'expires', 'opaque'] as const) {
      const value = values.get(name)
      if (value !== undefined) challenge[name] = value
    }
    challenges.push(challenge)
  }
  return challenges
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The shape `opaque` must have: a JSON object whose values are all strings. */
export function isStringMap(value: unknown): value is Record<string, string> {
  return isPlainObject(value) && Object.values(value).every((entry) => typeof entry === 'string')
}
