import { isIPv4, isIPv6 } from 'node:net'

/** Shorter tokens are guessable by a patient scraper; `openssl rand -hex 32` gives 64 characters. */
export const MIN_ADMIN_TOKEN_LENGTH = 16

/**
 * True for hosts only this machine can reach: `localhost`, 127.0.0.0/8 and ::1 (also IPv4-mapped).
 * A listener without a token must bind to one of these; anything else (0.0.0.0, a pod IP, a name
 * that DNS could point anywhere) needs the token.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  if (bare.toLowerCase() === 'localhost') return true
  if (isIPv4(bare)) return bare.startsWith('127.')
  if (!isIPv6(bare)) return false
  const lower = bare.toLowerCase()
  if (lower.startsWith('::ffff:')) return isIPv4(lower.slice(7)) && lower.slice(7).startsWith('127.')
  // every spelling of ::1 (0:0:0:0:0:0:0:1, ::0:1, ...)
  const groups = expandIpv6(lower)
  return groups !== undefined && groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1
}

/** What is wrong with an admin token, never quoting it (it is a secret); undefined when it is fine. */
export function adminTokenProblem(token: string): string | undefined {
  if (/\s/.test(token)) return 'must not contain whitespace (a trailing newline from a file or Secret?)'
  if (!/^[\x21-\x7e]+$/.test(token)) return 'must be printable ASCII, as it is sent in an Authorization header'
  if (token.length < MIN_ADMIN_TOKEN_LENGTH)
    return `is too short: at least ${MIN_ADMIN_TOKEN_LENGTH} characters (openssl rand -hex 32)`
  return undefined
}

function expandIpv6(address: string): number[] | undefined {
  const [head = '', tail, ...rest] = address.split('::')
  if (rest.length > 0) return undefined
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)))
  const left = parse(head)
  const right = tail === undefined ? [] : parse(tail)
  if (left.some(Number.isNaN) || right.some(Number.isNaN)) return undefined
  const fill = tail === undefined ? 0 : 8 - left.length - right.length
  if (fill < 0) return undefined
  const groups = [...left, ...new Array<number>(fill).fill(0), ...right]
  return groups.length === 8 ? groups : undefined
}
