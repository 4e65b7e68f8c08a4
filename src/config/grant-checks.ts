import { show } from './issues.js'
import type { RouteConfig } from './types.js'

/**
 * The rules that tie grants to the routes that take their keys: a grant is defined once, on a
 * priced route; an `access` names a defined grant and a `:param` of its own match.
 */

/** `access.param` must be a parameter of the route's match, or no id could be compared. */
export function accessParamProblem(path: string, param: string): string | undefined {
  const params = path
    .split('/')
    .filter((segment) => segment.startsWith(':'))
    .map((segment) => segment.slice(1))
  if (params.includes(param)) return undefined
  if (params.length === 0)
    return `${show(param)} is not a parameter of the match: it has none (write the id as ":${param}" in its path)`
  return `${show(param)} is not a parameter of the match (it has ${params.map((name) => `:${name}`).join(', ')})`
}

/** Problems across routes, each at its key path: grants defined twice, access to an undefined grant. */
export function grantProblems(routes: readonly RouteConfig[]): Array<{ path: string; problem: string }> {
  const defined = new Map<string, number>()
  const problems: Array<{ path: string; problem: string }> = []
  for (const route of routes) {
    if (!route.grant) continue
    const earlier = defined.get(route.grant.name)
    if (earlier === undefined) defined.set(route.grant.name, route.index)
    else
      problems.push({
        path: `routes[${route.index}].grant.name`,
        problem: `grant ${show(route.grant.name)} is already defined by routes[${earlier}]`,
      })
  }
  for (const route of routes) {
    if (!route.access || defined.has(route.access.grant)) continue
    const known = [...defined.keys()]
    problems.push({
      path: `routes[${route.index}].access.grant`,
      problem:
        known.length === 0
          ? `${show(route.access.grant)} is not a grant: no priced route defines one (routes[].grant)`
          : `${show(route.access.grant)} is not a grant of any priced route (defined: ${known.map((name) => show(name)).join(', ')})`,
    })
  }
  return problems
}
