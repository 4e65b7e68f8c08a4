import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { overlapExample } from '../config/route-overlap.js'
import { createRouteTable } from './route-table.js'

describe('createRouteTable', () => {
  const table = createRouteTable<string>()
  table.add('GET', '/v1/paid', 'paid')
  table.add('GET', '/V1/Strict', 'strict', true)
  table.add('POST', '/v1/files/*', 'files')
  table.add('ALL', '/*', 'catch-all')

  it.each([
    ['GET', '/v1/paid', 'paid'],
    ['GET', '/V1/PAID', 'paid'],
    ['GET', '/v1/paid/', 'paid'],
    ['HEAD', '/v1/Paid/', 'paid'],
    ['POST', '/v1/paid', 'catch-all'],
    ['GET', '/V1/Strict/', 'strict'],
    ['GET', '/v1/strict', 'catch-all'],
    ['POST', '/V1/FILES', 'files'],
    ['POST', '/v1/files/A/b/', 'files'],
    ['GET', '/', 'catch-all'],
  ])('%s %s → %s', (method, path, expected) => {
    expect(table.match(method, path)).toBe(expected)
  })

  it('lets the earliest route win across case-sensitive and case-insensitive ones', () => {
    const mixed = createRouteTable<string>()
    mixed.add('GET', '/a', 'strict first', true)
    mixed.add('GET', '/a', 'folded second')
    mixed.add('GET', '/b', 'folded first')
    mixed.add('GET', '/b', 'strict second', true)
    expect([mixed.match('GET', '/a'), mixed.match('GET', '/A'), mixed.match('GET', '/b')]).toEqual([
      'strict first',
      'folded second',
      'folded first',
    ])
  })
})

// The overlap analysis of the config check must agree with the router that serves requests:
// a request both routes take exists exactly when overlapExample finds one, and that one is taken by both.
describe('overlapExample agrees with the router (property)', () => {
  const segment = fc.constantFrom('a', 'A', 'b', ':p', ':q')
  const pattern = fc
    .tuple(fc.array(segment, { maxLength: 3 }), fc.boolean(), fc.constantFrom('GET', 'HEAD', 'POST', '*'), fc.boolean())
    .map(([segments, wildcard, method, caseSensitive]) => ({
      method,
      path: `/${[...segments, ...(wildcard ? ['*'] : [])].join('/')}`,
      caseSensitive,
    }))
    .filter(
      ({ path }) =>
        new Set(path.split('/').filter((s) => s.startsWith(':'))).size ===
        path.split('/').filter((s) => s.startsWith(':')).length,
    )
  // Every request path of up to 4 segments over letters the patterns use, in both cases, and one they do not.
  const paths = [['']]
  for (let length = 1; length <= 4; length++)
    for (const prefix of paths.filter((p) => p.length === length))
      for (const s of ['a', 'A', 'b', 'B', 'x']) paths.push([...prefix, s])
  const requests = paths.flatMap((segments) =>
    ['GET', 'HEAD', 'POST'].map((method) => [method, `/${segments.slice(1).join('/')}`] as const),
  )
  const tableOf = (route: { method: string; path: string; caseSensitive: boolean }) => {
    const table = createRouteTable<true>()
    table.add(route.method === '*' ? 'ALL' : route.method, route.path, true, route.caseSensitive)
    return (method: string, path: string) => table.match(method, path) === true
  }

  it('finds an example exactly when some request matches both', () => {
    fc.assert(
      fc.property(pattern, pattern, (a, b) => {
        const example = overlapExample(a, b)
        const [takesA, takesB] = [tableOf(a), tableOf(b)]
        if (example) {
          expect(takesA(example.method, example.path)).toBe(true)
          expect(takesB(example.method, example.path)).toBe(true)
          return
        }
        const both = requests.find(([method, path]) => takesA(method, path) && takesB(method, path))
        expect(both).toBeUndefined()
      }),
      { numRuns: 300 },
    )
  })
})
