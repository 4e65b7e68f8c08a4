import { formatBaseUnits } from './amount.js'
import type { MethodRequirement } from '../methods/plugin.js'
import { joinPath, show } from './issues.js'
import { findShadowing } from './route-overlap.js'
import type { DecimalAmount, GatewayConfig, LimitsConfig, RouteConfig, RoutePrice, RouteSplit } from './types.js'

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

/** The payment methods as the routes see them: those under `methods`, and those switched off, with why. */
export interface MethodsState {
  readonly configured: readonly string[]
  readonly disabled: ReadonlyMap<string, string>
  /** the sample config (`upstream.url: "example"`): a route without a usable method answers 503 rather than fail */
  readonly example: boolean
}

/** What a check across parts found at a key path: a problem, or a notice for the warnings. */
export type Finding = { readonly path: string } & ({ readonly problem: string } | { readonly notice: string })

/** Two routes with the same method and path: the later one could never be reached. */
export function duplicateProblem(
  seen: Map<string, number>,
  route: { method: string; path: string },
  index: number,
): string | undefined {
  const identity = `${route.method} ${route.path}`
  const earlier = seen.get(identity)
  if (earlier === undefined) {
    seen.set(identity, index)
    return undefined
  }
  return `duplicate of routes[${earlier}] (${show(identity)})`
}

const noMethodYet = (why: string) =>
  `no payment method is enabled, so this route answers 503 (${why}; or run with --sandbox)`

/** A priced route needs a method to charge it; with explicit `methods`, routeMethodsFindings says why each cannot. */
export function priceFinding(
  price: RoutePrice,
  at: string,
  methods: MethodsState,
  namesMethods: boolean,
): Finding | undefined {
  if (price.kind === 'free') return undefined
  if (methods.configured.length === 0) return { path: at, problem: 'no payment method is configured' }
  if (namesMethods || !methods.configured.every((name) => methods.disabled.has(name))) return undefined
  const why = [...methods.disabled].map(([name, reason]) => `${name} is disabled because ${reason}`).join('; ')
  // The unfilled sample config still runs: its priced routes answer 503 until a method is set up.
  if (methods.example) return { path: at, notice: noMethodYet(why) }
  return { path: at, problem: `no payment method is enabled: ${why}` }
}

/** Each name of a route's `methods` must be configured, listed once and switched on. */
export function routeMethodsFindings(names: readonly string[], at: string, methods: MethodsState): Finding[] {
  return names.flatMap((name, i): Finding[] => {
    const path = `${at}[${i}]`
    const disabled = methods.disabled.get(name)
    if (!methods.configured.includes(name)) return [{ path, problem: `${show(name)} is not configured under methods` }]
    if (names.indexOf(name) !== i) return [{ path, problem: `${show(name)} is listed twice` }]
    if (disabled === undefined) return []
    if (methods.example) return [{ path, notice: noMethodYet(`${name} is disabled because ${disabled}`) }]
    return [{ path, problem: `${show(name)} is disabled because ${disabled}` }]
  })
}

/** A priced route is digested from a buffered body: one above limits.bufferedBytes can never be paid for. */
export function bodyLimitFindings(routes: readonly RouteConfig[], limits: LimitsConfig): Finding[] {
  return routes
    .filter((route) => route.price.kind !== 'free' && route.maxBodyBytes > limits.bufferedBytes)
    .map((route) => ({
      path: `routes[${route.index}].maxBodyBytes`,
      notice: `maxBodyBytes ${route.maxBodyBytes} is above limits.bufferedBytes ${limits.bufferedBytes}: a body that large always gets 503`,
    }))
}
