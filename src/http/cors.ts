import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CorsConfig } from '../config/types.js'

/*
 * CORS for browser clients that pay (Fetch standard §3.2). No Access-Control-Allow-Credentials
 * unless `cors.credentials` is set (only with a list of origins): a payment is a bearer credential
 * carried in Authorization, which a script sets explicitly; cookies and TLS client certificates are
 * not needed to pay, and leaving credentials mode off means no other site can ride on a user's
 * cookies for the upstream.
 */

/** Without these exposed, a script sees a 402 but cannot read the challenge, nor the receipt of a paid answer. */
const EXPOSED_HEADERS = 'WWW-Authenticate, Payment-Receipt'
/** Answered when the preflight names no usable method. */
const ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
/**
 * Always allowed, whatever the preflight asked: paying needs Authorization (which a "*" in
 * Allow-Headers would not cover anyway), JSON bodies need Content-Type, and Accept-Payment states
 * which methods the client can pay with.
 */
const ALWAYS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Accept-Payment']
/**
 * The headers that grant a cross-origin read. With `cors` configured the gateway's policy alone
 * decides them: an upstream that reflects any Origin with credentials must not widen it.
 */
const GATEWAY_OWNED_HEADERS = ['Access-Control-Allow-Origin', 'Access-Control-Allow-Credentials']
/** RFC 9110 §5.6.2 token: what a method or header name may be; anything else is not echoed. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** Adds CORS response headers for an allowed Origin; returns false when the request has no Origin or it is not allowed (then nothing is added). */
export function applyCors(cors: CorsConfig, incoming: IncomingMessage, outgoing: ServerResponse): boolean {
  // Headers set before forwarding replace the upstream's of the same name (proxy/upstream.ts); an
  // empty list sends nothing, so this drops the upstream's unless the lines below set ours.
  for (const name of GATEWAY_OWNED_HEADERS) outgoing.setHeader(name, [])
  const origin = allowedOrigin(cors, incoming)
  if (origin === undefined) return false
  allowOrigin(cors, outgoing, origin)
  outgoing.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS)
  return true
}

/** True when the request is a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method); it answers it (204 with the Allow-* headers when allowed, 403 problem-less empty body when the origin is not allowed) and returns true. */
export function answerPreflight(cors: CorsConfig, incoming: IncomingMessage, outgoing: ServerResponse): boolean {
  const requestedMethod = incoming.headers['access-control-request-method']
  if (incoming.method !== 'OPTIONS' || incoming.headers.origin === undefined || requestedMethod === undefined)
    return false
  const origin = allowedOrigin(cors, incoming)
  if (origin === undefined) {
    // The browser only needs to see no Allow-Origin; a body would be read by no one.
    outgoing.writeHead(403, { 'Content-Length': '0' })
    outgoing.end()
    return true
  }
  allowOrigin(cors, outgoing, origin)
  outgoing.setHeader('Access-Control-Allow-Methods', allowedMethods(requestedMethod.trim()).join(', '))
  outgoing.setHeader(
    'Access-Control-Allow-Headers',
    allowedHeaders(incoming.headers['access-control-request-headers']).join(', '),
  )
  outgoing.setHeader('Access-Control-Max-Age', String(cors.maxAgeSeconds))
  outgoing.writeHead(204)
  outgoing.end()
  return true
}

/** The request's Origin when the config allows it; undefined when absent, repeated or not allowed. */
function allowedOrigin(cors: CorsConfig, incoming: IncomingMessage): string | undefined {
  // Node joins repeated Origin lines with ", "; that is no origin, and must not be echoed under "*".
  const lines = incoming.headersDistinct.origin
  if (lines?.length !== 1) return undefined
  const origin = lines[0]!.trim()
  if (origin === '') return undefined
  // Config origins are already serialized (scheme://host[:port]), as browsers send them: exact match.
  return cors.origins.includes('*') || cors.origins.includes(origin) ? origin : undefined
}

function allowOrigin(cors: CorsConfig, outgoing: ServerResponse, origin: string): void {
  // The origin is echoed rather than "*", so the answer depends on Origin: shared caches must key on it.
  outgoing.setHeader('Access-Control-Allow-Origin', origin)
  addVary(outgoing, 'Origin')
  // Under "*" every origin is echoed: credentials then would let any site act with a visitor's cookies.
  if (cors.credentials && !cors.origins.includes('*')) outgoing.setHeader('Access-Control-Allow-Credentials', 'true')
}

/** Appends to an existing Vary instead of replacing what the caller (or upstream) already set. */
function addVary(outgoing: ServerResponse, name: string): void {
  const existing = outgoing.getHeader('Vary')
  const values = (Array.isArray(existing) ? existing : existing === undefined ? [] : [String(existing)])
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '')
  if (values.some((value) => value === '*' || value.toLowerCase() === name.toLowerCase())) return
  outgoing.setHeader('Vary', [...values, name].join(', '))
}

/** The fixed list, plus the requested method if it is another well-formed one (routes may use any method). */
function allowedMethods(requested: string): string[] {
  if (!TOKEN.test(requested) || ALLOWED_METHODS.includes(requested)) return ALLOWED_METHODS
  return [...ALLOWED_METHODS, requested]
}

/** What the preflight asked for (well-formed names only), plus the headers paying always needs. */
function allowedHeaders(requested: string | undefined): string[] {
  const names = [...ALWAYS_ALLOWED_HEADERS]
  const seen = new Set(names.map((name) => name.toLowerCase()))
  for (const raw of (requested ?? '').split(',')) {
    const name = raw.trim()
    if (!TOKEN.test(name) || seen.has(name.toLowerCase())) continue
    seen.add(name.toLowerCase())
    names.push(name)
  }
  return names
}
