/** Header rules for forwarding, per RFC 9110 §7.6.1 (hop-by-hop) and the payment scheme. */
import { splitElements } from '../protocol/auth-header.js'

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/** Request headers the gateway owns: it sets them itself or must not pass them on. */
const GATEWAY_REQUEST_HEADERS = new Set([
  'host',
  'authorization',
  'accept-payment',
  'payment-receipt',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  // a client IP the upstream may believe: only the gateway's X-Forwarded-For says who the client is
  'x-real-ip',
  // Node's server has already answered `100-continue` to the client; the body follows regardless
  // (and undici refuses to send the header)
  'expect',
])

/**
 * Headers a `Connection` list may never remove: the message's framing and what the gateway sets
 * or relies on. Listing one of them is how a client would make the gateway drop its framing.
 */
const NOT_CONNECTION_LISTABLE = new Set([
  'content-length',
  'transfer-encoding',
  'host',
  'authorization',
  'payment-receipt',
  'forwarded',
])

/**
 * Request headers that make common upstream stacks re-method or re-route a request after the
 * gateway priced it (Express method-override, IIS/Symfony X-Original-URL, ...). Always stripped;
 * `upstream.stripRequestHeaders` adds to them.
 */
export const REROUTING_REQUEST_HEADERS: readonly string[] = [
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-url',
  'x-rewrite-url',
  'x-forwarded-prefix',
]

const DEFAULT_STRIPPED: ReadonlySet<string> = new Set(REROUTING_REQUEST_HEADERS)

/** The set of request header names to strip: the rerouting ones plus the operator's (lower-cased). */
export function strippedRequestHeaders(extra: readonly string[]): ReadonlySet<string> {
  return extra.length === 0
    ? DEFAULT_STRIPPED
    : new Set([...REROUTING_REQUEST_HEADERS, ...extra.map((name) => name.toLowerCase())])
}

/** Response headers only the gateway may send: an upstream's receipt is never relayed. */
const GATEWAY_RESPONSE_HEADERS = new Set(['payment-receipt'])

const NONE: ReadonlySet<string> = new Set()

/** Header names a `Connection` header lists are hop-by-hop for that message too (the protected ones excepted). */
function connectionListed(rawHeaders: readonly string[]): ReadonlySet<string> {
  let listed: Set<string> | undefined
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'connection') continue
    listed ??= new Set()
    for (const name of rawHeaders[i + 1]!.split(',')) {
      const lower = name.trim().toLowerCase()
      if (!NOT_CONNECTION_LISTABLE.has(lower) && !lower.startsWith('x-forwarded-')) listed.add(lower)
    }
  }
  return listed ?? NONE
}

/**
 * [name, value] pairs of an inbound request that may go upstream, in their original order and case.
 * Names with an underscore go too, as nginx does by default: servers that map `_` to `-` (CGI,
 * WSGI, PHP) would read `Payment_Receipt` as the gateway's `Payment-Receipt`.
 */
export function forwardableRequestHeaders(
  rawHeaders: readonly string[],
  dropContentLength: boolean,
  stripped: ReadonlySet<string> = DEFAULT_STRIPPED,
): Array<[string, string]> {
  const listed = connectionListed(rawHeaders)
  const out: Array<[string, string]> = []
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!
    const lower = name.toLowerCase()
    // Every client X-Forwarded-* goes (-Port, -Scheme, -Ssl, ...): the gateway sets the ones it knows.
    if (
      HOP_BY_HOP.has(lower) ||
      GATEWAY_REQUEST_HEADERS.has(lower) ||
      stripped.has(lower) ||
      listed.has(lower) ||
      lower.includes('_') ||
      lower.startsWith('x-forwarded-')
    )
      continue
    if (dropContentLength && lower === 'content-length') continue
    out.push([name, rawHeaders[i + 1]!])
  }
  return out
}

/** [name, value] pairs of an upstream response that go back to the client. */
export function forwardableResponseHeaders(rawHeaders: readonly string[]): Array<[string, string]> {
  const listed = connectionListed(rawHeaders)
  const out: Array<[string, string]> = []
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i]!.toLowerCase()
    if (HOP_BY_HOP.has(lower) || GATEWAY_RESPONSE_HEADERS.has(lower) || listed.has(lower)) continue
    out.push([rawHeaders[i]!, rawHeaders[i + 1]!])
  }
  return out
}

/**
 * Whether an upstream response asks for payment itself: a 402, or a `WWW-Authenticate` with a
 * `Payment` challenge. Relayed, a client would pay someone else's challenge through us.
 */
export function asksForPayment(status: number, wwwAuthenticate: string | string[] | undefined): boolean {
  if (status === 402) return true
  if (wwwAuthenticate === undefined) return false
  for (const line of Array.isArray(wwwAuthenticate) ? wwwAuthenticate : [wwwAuthenticate]) {
    if (splitElements(line).some((element) => element.scheme.toLowerCase() === 'payment')) return true
  }
  return false
}

/** One Vary value holding every token of `first` then `second`, each once (case-insensitive); `*` wins. */
export function mergeVary(first: readonly string[], second: readonly string[]): string {
  const tokens = new Map<string, string>()
  for (const value of [...first, ...second]) {
    for (const token of value.split(',')) {
      const trimmed = token.trim()
      if (trimmed !== '' && !tokens.has(trimmed.toLowerCase())) tokens.set(trimmed.toLowerCase(), trimmed)
    }
  }
  return tokens.has('*') ? '*' : [...tokens.values()].join(', ')
}
