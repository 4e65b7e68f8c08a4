import { createHash, timingSafeEqual } from 'node:crypto'
import { isLoopbackHost } from '../config/admin.js'

/**
 * True when the request's Authorization lines are exactly one `Bearer <token>`. Both sides are
 * hashed first, so the comparison is constant-time and the same length whatever was sent: neither
 * the token's length nor a matching prefix shows in the timing.
 */
export function bearerMatches(authorization: readonly string[] | undefined, token: string): boolean {
  const match = authorization?.length === 1 ? /^Bearer +([^\s]+) *$/i.exec(authorization[0]!) : null
  const presented = createHash('sha256')
    .update(match?.[1] ?? '')
    .digest()
  const expected = createHash('sha256').update(token).digest()
  return timingSafeEqual(presented, expected) && match !== null
}

/**
 * True when the Host header names this machine (localhost, 127.x, [::1]), with or without a port.
 * A tokenless admin listener only binds to loopback, but a browser tricked by DNS rebinding also
 * connects to loopback: it sends the attacker's host name, which this refuses.
 */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (!host) return false
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:[0-9]*$/, '')
  return isLoopbackHost(name)
}
