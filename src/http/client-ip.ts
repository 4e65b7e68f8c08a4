import { BlockList, isIP, isIPv4 } from 'node:net'
import { parseCidr } from './cidr.js'

/** (socket peer address, X-Forwarded-For header as Node gives it) → the client IP, or '' when unknown */
export type ClientIpResolver = (peer: string | undefined, forwardedFor: string | string[] | undefined) => string

/**
 * Builds a resolver once per config.
 *
 * The client is the socket peer unless that peer is a trusted proxy. Then X-Forwarded-For is read
 * from the right (each proxy appends the address it saw), skipping trusted hops; the first untrusted
 * entry is the client — anything further left was written by that client and could be anything
 * (what nginx `real_ip_recursive on` and Envoy `xff_trusted_cidrs` do). The result feeds rate limits
 * and logs, so it must never be a string the client chose freely.
 */
export function createClientIpResolver(trustedProxies: readonly string[]): ClientIpResolver {
  const trusted = new BlockList()
  let any = false
  for (const text of trustedProxies) {
    const cidr = parseCidr(text)
    // load.ts rejects bad entries; skipping here keeps a bad list from trusting more than it says
    if (!cidr) continue
    trusted.addSubnet(cidr.address, cidr.prefix, cidr.family)
    any = true
  }
  // BlockList matches IPv4-mapped IPv6 against IPv4 rules (and back), so a normalized address works for both.
  const isTrusted = (address: string) => trusted.check(address, isIPv4(address) ? 'ipv4' : 'ipv6')

  return (peer, forwardedFor) => {
    const client = normalizeIp(peer ?? '')
    if (!client) return ''
    // No trusted proxies: the header is whatever the client sent, so it is not read at all.
    if (!any || !isIP(client) || !isTrusted(client)) return client
    const entries = forwardedForEntries(forwardedFor)
    let lastTrusted = client
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = normalizeIp(entries[i]!)
      // A malformed hop means the chain can no longer be followed; the nearest trusted hop is the
      // best answer that is not attacker-controlled text.
      if (!isIP(entry)) return lastTrusted
      if (!isTrusted(entry)) return entry
      lastTrusted = entry
    }
    // Every hop is trusted (e.g. an internal caller): the origin of the chain is the leftmost one.
    return lastTrusted
  }
}

/** All X-Forwarded-For lines as one list, in order; empty items (stray commas) carry no hop. */
function forwardedForEntries(value: string | string[] | undefined): string[] {
  if (value === undefined) return []
  const joined = Array.isArray(value) ? value.join(',') : value
  return joined
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
}

/** `::ffff:127.0.0.1` (or `::ffff:7f00:1`) → `127.0.0.1`: a dual-stack socket reports IPv4 peers that way. */
function normalizeIp(address: string): string {
  const lower = address.trim().toLowerCase()
  const tail = lower.startsWith('::ffff:')
    ? lower.slice(7)
    : lower.startsWith('0:0:0:0:0:ffff:')
      ? lower.slice(15)
      : undefined
  if (tail === undefined) return lower
  if (isIPv4(tail)) return tail
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(tail)
  if (!hex) return lower
  const high = parseInt(hex[1]!, 16)
  const low = parseInt(hex[2]!, 16)
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`
}
