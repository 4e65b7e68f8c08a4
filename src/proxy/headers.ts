/** Header rules for forwarding, per RFC 9110 §7.6.1 (hop-by-hop) and the payment scheme. */

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
])

const NONE: ReadonlySet<string> = new Set()

/** Header names a `Connection` header lists are hop-by-hop for that message too. */
function connectionListed(rawHeaders: readonly string[]): ReadonlySet<string> {
  let listed: Set<string> | undefined
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'connection') continue
    listed ??= new Set()
    for (const name of rawHeaders[i + 1]!.split(',')) listed.add(name.trim().toLowerCase())
  }
  return listed ?? NONE
}

/** [name, value] pairs of an inbound request that may go upstream, in their original order and case. */
export function forwardableRequestHeaders(rawHeaders: readonly string[], dropContentLength: boolean): Array<[string, string]> {
  const listed = connectionListed(rawHeaders)
  const out: Array<[string, string]> = []
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!
    const lower = name.toLowerCase()
    if (HOP_BY_HOP.has(lower) || GATEWAY_REQUEST_HEADERS.has(lower) || listed.has(lower)) continue
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
    if (HOP_BY_HOP.has(lower) || listed.has(lower)) continue
    out.push([rawHeaders[i]!, rawHeaders[i + 1]!])
  }
  return out
}

/**
 * Cache-Control for a response carrying a Payment-Receipt: the spec requires `private`, so
 * `public` goes and `private` is added to whatever else the upstream said.
 */
export function privateCacheControl(upstream: string | undefined): string {
  const directives = (upstream ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '' && !/^(public|private)$/i.test(d))
  return [...directives, 'private'].join(', ')
}
