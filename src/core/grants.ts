import { createHash, randomBytes } from 'node:crypto'

/**
 * Scoped follow-up keys (`routes[].grant` / `routes[].access`), as pure rules: mint a key, hash it
 * for the store, read the id it is scoped to, and judge a presented key. Only the SHA-256 of a key
 * is ever stored, so a store dump gives no usable key.
 */

/** Recognisable in a leaked-secret scan, and how a Bearer token is told apart as ours. */
export const GRANT_KEY_PREFIX = 'mppk_'
/** 256 bits of randomness (≥128 asked for), 43 base64url characters */
const KEY_BYTES = 32
/** the most of a JSON response body read for `response-body:` ids */
export const GRANT_BODY_LIMIT = 64 * 1024

/** What the store keeps per key, under its hash. */
export interface GrantRecord {
  readonly grant: string
  readonly id: string
  /** epoch ms */
  readonly expiresAt: number
}

/** Where a route's grant takes the id its key is scoped to. */
export type IdSource =
  | { readonly from: 'response-body'; readonly pointer: string }
  | { readonly from: 'header'; readonly name: string }

export function mintKey(): string {
  return GRANT_KEY_PREFIX + randomBytes(KEY_BYTES).toString('base64url')
}

/** The store key of a presented key: hex SHA-256. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

/** `response-body:/id` or `header:Location`; a string saying what is wrong otherwise. */
export function parseIdSource(text: string): IdSource | string {
  if (text.startsWith('response-body:')) {
    const pointer = text.slice('response-body:'.length)
    if (pointer !== '' && !pointer.startsWith('/'))
      return `the JSON Pointer after "response-body:" must be empty or start with "/" (got ${JSON.stringify(pointer)})`
    if (/~[^01]|~$/.test(pointer)) return 'the JSON Pointer has a "~" not followed by 0 or 1 (RFC 6901)'
    return { from: 'response-body', pointer }
  }
  if (text.startsWith('header:')) {
    const name = text.slice('header:'.length)
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) return `${JSON.stringify(name)} is not a header name`
    return { from: 'header', name }
  }
  return 'must be "response-body:<JSON Pointer>" (e.g. "response-body:/id") or "header:<Name>" (e.g. "header:Location")'
}

/** RFC 6901: the value at `pointer` in a parsed JSON document, or undefined. */
export function resolvePointer(document: unknown, pointer: string): unknown {
  if (pointer === '') return document
  let at: unknown = document
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    if (Array.isArray(at)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined
      at = at[Number(token)]
    } else if (typeof at === 'object' && at !== null && Object.hasOwn(at, token)) {
      at = (at as Record<string, unknown>)[token]
    } else return undefined
  }
  return at
}

/** the most characters an id may have: it becomes part of a path the upstream routes */
const MAX_ID_LENGTH = 512

/** An id as a string: a non-empty string or a safe integer; anything else is no id. */
function asId(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value)
  if (typeof value === 'string' && value !== '' && value.length <= MAX_ID_LENGTH) return value
  return undefined
}

/**
 * The id a response names: at the pointer of its JSON body, or in a header. A header such as
 * `Location: /agent/orders/ord_1` gives its last path segment, so the key matches `:id` there.
 */
export function idFromResponse(
  source: IdSource,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: Buffer | undefined,
): string | undefined {
  if (source.from === 'header') {
    const value = headers[source.name.toLowerCase()]
    const text = Array.isArray(value) ? value[0] : value
    if (text === undefined) return undefined
    const trimmed = text.trim()
    if (!trimmed.includes('/')) return asId(trimmed)
    let path: string
    try {
      path = new URL(trimmed, 'http://gateway.invalid').pathname
    } catch {
      return undefined
    }
    const last = path
      .split('/')
      .filter((segment) => segment !== '')
      .at(-1)
    try {
      return last === undefined ? undefined : asId(decodeURIComponent(last))
    } catch {
      return undefined
    }
  }
  if (body === undefined) return undefined
  let document: unknown
  try {
    document = JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
  return asId(resolvePointer(document, source.pointer))
}

export type GrantVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'invalid' | 'expired' | 'wrong-scope'; readonly detail: string }

/** Whether a stored record lets its key reach the route's grant for `id` at `now`. */
export function judgeGrant(record: GrantRecord | undefined, grant: string, id: string, now: number): GrantVerdict {
  if (!record) return { ok: false, reason: 'invalid', detail: 'The key is not one this gateway issued.' }
  if (record.expiresAt <= now)
    return { ok: false, reason: 'expired', detail: `The key expired at ${new Date(record.expiresAt).toISOString()}.` }
  if (record.grant !== grant || record.id !== id)
    return { ok: false, reason: 'wrong-scope', detail: 'The key was issued for another resource.' }
  return { ok: true }
}

/** A Bearer token or header value that could be a key: the right shape, so junk never reaches the store. */
export function looksLikeKey(text: string): boolean {
  return text.startsWith(GRANT_KEY_PREFIX) && /^[A-Za-z0-9_-]{1,200}$/.test(text)
}
