import { compareDecimal } from './amount.js'
import type { DecimalAmount } from './types.js'

/**
 * Which requests two route patterns both match, as the gateway's router matches them: a path is
 * compared without its trailing "/" (so "/a/" is "/a"), statics fold case unless both routes are
 * case-sensitive, ":param" takes one non-empty segment, and a last "*" takes zero or more ("/a/*"
 * matches "/a" too, as Hono does). Methods: "*" takes every method, and a GET route also takes HEAD.
 */

export interface RoutePattern {
  /** upper-case method or "*" */
  readonly method: string
  /** a canonical pattern accepted by the loader: statics, ":name" segments, an optional last "*" */
  readonly path: string
  readonly caseSensitive: boolean
}

/** A request that both patterns match, or undefined when they match none in common. */
export function overlapExample(a: RoutePattern, b: RoutePattern): { method: string; path: string } | undefined {
  const method = commonMethod(a.method, b.method)
  if (!method) return undefined
  const path = commonPath(parse(a.path), parse(b.path), a.caseSensitive, b.caseSensitive)
  return path === undefined ? undefined : { method, path }
}

/** The path the router matches for a canonical request path: no trailing "/" except for the root. */
export function routingPath(canonicalPath: string): string {
  return canonicalPath.length > 1 && canonicalPath.endsWith('/') ? canonicalPath.slice(0, -1) : canonicalPath
}

function commonMethod(a: string, b: string): string | undefined {
  if (a === '*') return b === '*' ? 'GET' : b
  if (b === '*' || a === b) return a
  if ((a === 'GET' && b === 'HEAD') || (a === 'HEAD' && b === 'GET')) return 'HEAD'
  return undefined
}

interface Parsed {
  readonly segments: readonly string[]
  readonly wildcard: boolean
}

function parse(pattern: string): Parsed {
  const segments = routingPath(pattern)
    .split('/')
    .slice(1)
    .filter((segment) => segment !== '')
  const wildcard = segments.at(-1) === '*'
  return { segments: wildcard ? segments.slice(0, -1) : segments, wildcard }
}

const isParam = (segment: string) => segment.startsWith(':')

/** An example path matched by both, spelled as `b` (the later route) is written where `a` allows. */
function commonPath(a: Parsed, b: Parsed, aSensitive: boolean, bSensitive: boolean): string | undefined {
  // A fixed pattern matches exactly its length; a wildcard one, its prefix length or more.
  const length = !a.wildcard
    ? a.segments.length
    : !b.wildcard
      ? b.segments.length
      : Math.max(a.segments.length, b.segments.length)
  if ((!a.wildcard && length !== a.segments.length) || (!b.wildcard && length !== b.segments.length)) return undefined
  if (length < a.segments.length || length < b.segments.length) return undefined
  const out: string[] = []
  for (let i = 0; i < length; i++) {
    const x = a.segments[i]
    const y = b.segments[i]
    const staticX = x !== undefined && !isParam(x) ? x : undefined
    const staticY = y !== undefined && !isParam(y) ? y : undefined
    if (staticX !== undefined && staticY !== undefined) {
      if (aSensitive && bSensitive ? staticX !== staticY : staticX.toLowerCase() !== staticY.toLowerCase())
        return undefined
      // Both match this spelling: a case-sensitive route only its own.
      out.push(aSensitive && !bSensitive ? staticX : staticY)
      continue
    }
    out.push(staticY ?? staticX ?? 'x')
  }
  return `/${out.join('/')}`
}

export interface PricedPattern extends RoutePattern {
  readonly index: number
  /** undefined: forwarded unpaid (a free route, or a priced one in `mode: shadow`) */
  readonly amount?: DecimalAmount
  /** `shadows: ok`: the operator means this route to take requests of later ones */
  readonly shadowsOk: boolean
}

export interface Shadowing {
  readonly earlier: number
  readonly later: number
  readonly example: { readonly method: string; readonly path: string }
}

/**
 * Every later priced route that an earlier route takes some requests of for less (or for free):
 * routes match first-to-last, so those requests would never pay the later price.
 */
export function findShadowing(routes: readonly PricedPattern[]): Shadowing[] {
  const found: Shadowing[] = []
  for (const [j, later] of routes.entries()) {
    if (!later.amount) continue
    for (const earlier of routes.slice(0, j)) {
      if (earlier.shadowsOk) continue
      if (earlier.amount && compareDecimal(earlier.amount, later.amount) >= 0) continue
      const example = overlapExample(earlier, later)
      if (example) found.push({ earlier: earlier.index, later: later.index, example })
    }
  }
  return found
}
