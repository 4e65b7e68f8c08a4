import { formatBaseUnits } from './amount.js'
import type { MethodRequirement } from '../methods/plugin.js'
import { joinPath, show } from './issues.js'
import { findShadowing } from './route-overlap.js'
import type { DecimalAmount, GatewayConfig, RouteConfig, RoutePrice, RouteSplit } from './types.js'

/**
 * The rules that tie one part of the config to another. Each says what is wrong, or nothing; the
 * loader calls it where the parts it needs are parsed, so the errors keep the order of the file.
 */

/** Replicas sharing a store must share the challenge key, or each refuses the challenges of the others. */
export function sharedStoreNeedsKey(unsetVariables: readonly string[]): string {
  const hint = unsetVariables.length > 0 ? `; set ${unsetVariables.join(', ')}` : ''
  return `is required with store.url: replicas sharing a store must share the challenge key, or each refuses the challenges of the others (openssl rand -base64 32)${hint}`
}

/** Workers need the shared store: the in-memory one keeps single use inside one process. */
export function workersProblem(workers: number, store: GatewayConfig['store']): string | undefined {
  if (workers <= 1 || store.url) return undefined
  return `${workers} workers need store.url (Redis): the in-memory store keeps single use inside one process, so a credential could be spent once per worker`
}

/** A method leaning on another (see MethodPlugin.requires) needs it configured and switched on. */
export function requirementProblem(
  requirement: MethodRequirement,
  configured: boolean,
  disabledBecause: string | undefined,
): string | undefined {
  const section = joinPath('methods', requirement.method)
  if (disabledBecause !== undefined) return `needs ${section}, which is disabled because ${disabledBecause}`
  if (!configured) return `needs ${section}: ${requirement.why}`
  return undefined
}

/** Splits must leave the route's recipient a non-zero remainder of the price, compared exactly. */
export function splitsProblem(price: RoutePrice | undefined, splits: readonly RouteSplit[]): string | undefined {
  if (price?.kind !== 'charge' || splits.length === 0) return undefined
  // Every amount brought to the largest scale among them.
  const splitScale = Math.max(...splits.map((s) => s.amount.scale))
  const total = sumAt(
    splits.map((s) => s.amount),
    splitScale,
  )
  const scale = Math.max(splitScale, price.amount.scale)
  if (total * 10n ** BigInt(scale - splitScale) < sumAt([price.amount], scale)) return undefined
  return `the splits add up to ${formatBaseUnits(total, splitScale)}, which is not less than the price ${price.amount.text} (the route's recipient must keep a non-zero remainder)`
}

/** Routes match first-to-last: an earlier route must not serve a later one's requests for less. */
export function shadowingProblems(
  routes: readonly RouteConfig[],
  shadowsOk: ReadonlySet<number>,
): Array<{ path: string; problem: string }> {
  const patterns = routes.map((route) => ({
    index: route.index,
    method: route.method,
    path: route.path,
    caseSensitive: route.caseSensitive === true,
    ...(route.price.kind === 'charge' && route.mode === 'enforce' ? { amount: route.price.amount } : {}),
    shadowsOk: shadowsOk.has(route.index),
  }))
  const priceOf = (route: RouteConfig) =>
    route.price.kind === 'free'
      ? 'free'
      : route.mode === 'shadow'
        ? `${route.price.amount.text}, but mode: shadow forwards it unpaid`
        : route.price.amount.text
  return findShadowing(patterns).map(({ earlier, later, example }) => {
    const a = routes.find((route) => route.index === earlier)!
    const b = routes.find((route) => route.index === later)!
    return {
      path: `routes[${later}].match`,
      problem:
        `${show(b.match)} (price ${priceOf(b)}) is shadowed by routes[${earlier}].match ${show(a.match)} (price ${priceOf(a)}), ` +
        `which comes first and takes requests such as ${example.method} ${example.path}; ` +
        `list the more specific route first, or set routes[${earlier}].shadows: ok if that is intended`,
    }
  })
}

/** The sum of decimal amounts in units of 10^-scale; `scale` is at least each amount's scale. */
function sumAt(amounts: readonly DecimalAmount[], scale: number): bigint {
  return amounts.reduce((sum, amount) => sum + amount.units * 10n ** BigInt(scale - amount.scale), 0n)
}
