import { RegExpRouter } from 'hono/router/reg-exp-router'
import { SmartRouter } from 'hono/router/smart-router'
import { TrieRouter } from 'hono/router/trie-router'
import { routingPath } from '../config/route-overlap.js'

type Entry<T> = { readonly order: number; readonly value: T }
const newRouter = <T>() => new SmartRouter<Entry<T>>({ routers: [new RegExpRouter(), new TrieRouter()] })

export interface RouteTable<T> {
  /** `method` is upper case or "ALL"; a GET route also takes HEAD */
  add(method: string, pattern: string, value: T, caseSensitive?: boolean): void
  /** the earliest added route that matches a canonical request path */
  match(method: string, canonicalPath: string): T | undefined
}

/**
 * Hono's router, matching as Express and most frameworks route by default: without the trailing
 * "/" and, unless a route is case-sensitive, in lower case. The earliest route added wins.
 */
export function createRouteTable<T>(): RouteTable<T> {
  const folded = newRouter<T>()
  // Only built once a case-sensitive route is added, so the default costs one match per request.
  let exact: SmartRouter<Entry<T>> | undefined
  let order = 0
  return {
    add(method, pattern, value, caseSensitive = false) {
      const router = caseSensitive ? (exact ??= newRouter<T>()) : folded
      const path = routingPath(caseSensitive ? pattern : pattern.toLowerCase())
      const entry = { order: order++, value }
      router.add(method, path, entry)
      if (method === 'GET') router.add('HEAD', path, entry)
    },
    match(method, canonicalPath) {
      const path = routingPath(canonicalPath)
      const loose = folded.match(method, path.toLowerCase())[0][0]?.[0]
      if (!exact) return loose?.value
      const strict = exact.match(method, path)[0][0]?.[0]
      return (strict && (!loose || strict.order < loose.order) ? strict : loose)?.value
    },
  }
}
