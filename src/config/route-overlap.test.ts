import { describe, expect, it } from 'vitest'
import { parseDecimal } from './amount.js'
import { findShadowing, overlapExample, type PricedPattern, routingPath } from './route-overlap.js'

const route = (match: string, caseSensitive = false) => {
  const [method, path] = match.split(' ') as [string, string]
  return { method, path, caseSensitive }
}

describe('overlapExample', () => {
  it.each([
    // [earlier, later, a request both take (or undefined)]
    ['GET /v1/joke', 'GET /v1/joke', 'GET /v1/joke'],
    ['GET /v1/*', 'GET /v1/joke', 'GET /v1/joke'],
    ['GET /v1/*', 'GET /v1', 'GET /v1'],
    ['GET /v1/*', 'GET /v2/joke', undefined],
    ['GET /*', 'POST /v1/a/b', undefined],
    ['* /*', 'POST /v1/a/b', 'POST /v1/a/b'],
    ['* /*', 'GET /', 'GET /'],
    ['* /v1/joke', 'GET /v1/joke', 'GET /v1/joke'],
    ['GET /v1/joke', '* /v1/joke', 'GET /v1/joke'],
    ['* /v1/joke', '* /v1/joke', 'GET /v1/joke'],
    ['GET /v1/joke', 'HEAD /v1/joke', 'HEAD /v1/joke'],
    ['HEAD /v1/joke', 'GET /v1/joke', 'HEAD /v1/joke'],
    ['POST /v1/joke', 'GET /v1/joke', undefined],
    ['GET /v1/:id', 'GET /v1/joke', 'GET /v1/joke'],
    ['GET /v1/joke', 'GET /v1/:id', 'GET /v1/joke'],
    ['GET /v1/:a', 'GET /:b/x', 'GET /v1/x'],
    ['GET /v1/:id', 'GET /v1/joke/x', undefined],
    ['GET /v1/:id', 'GET /v1', undefined],
    ['GET /v1/:id/*', 'GET /v1/*', 'GET /v1/x'],
    ['GET /v1/*', 'GET /v1/:id/*', 'GET /v1/x'],
    ['GET /a/b/*', 'GET /a/*', 'GET /a/b'],
    ['GET /a/b/*', 'GET /a/c/*', undefined],
    ['GET /a/*', 'GET /a/b/c/d', 'GET /a/b/c/d'],
    ['GET /a/b/c/d', 'GET /a/*', 'GET /a/b/c/d'],
    ['GET /V1/Joke', 'GET /v1/joke', 'GET /v1/joke'],
    ['GET /v1/joke/', 'GET /v1/joke', 'GET /v1/joke'],
    ['GET /', 'GET /*', 'GET /'],
    ['GET /', 'GET /x', undefined],
  ])('%s then %s: %s', (earlier, later, expected) => {
    const example = overlapExample(route(earlier), route(later))
    expect(example && `${example.method} ${example.path}`).toBe(expected)
  })

  it.each([
    // [earlier, its caseSensitive, later, its caseSensitive, expected]
    ['GET /V1/joke', true, 'GET /v1/joke', true, undefined],
    ['GET /V1/joke', true, 'GET /v1/joke', false, 'GET /V1/joke'],
    ['GET /V1/joke', false, 'GET /v1/joke', true, 'GET /v1/joke'],
    ['GET /v1/joke', true, 'GET /v1/joke', true, 'GET /v1/joke'],
  ] as const)('%s (caseSensitive %s) then %s (caseSensitive %s): %s', (earlier, a, later, b, expected) => {
    const example = overlapExample(route(earlier, a), route(later, b))
    expect(example && `${example.method} ${example.path}`).toBe(expected)
  })
})

describe('routingPath', () => {
  it.each([
    ['/', '/'],
    ['/v1/paid/', '/v1/paid'],
    ['/v1/paid', '/v1/paid'],
    ['/V1/Paid/', '/V1/Paid'],
  ])('%s → %s', (path, expected) => expect(routingPath(path)).toBe(expected))
})

describe('findShadowing', () => {
  const priced = (index: number, match: string, price: string | undefined, shadowsOk = false): PricedPattern => ({
    ...route(match),
    index,
    ...(price === undefined ? {} : { amount: parseDecimal(price)! }),
    shadowsOk,
  })

  it.each([
    [
      'a free wildcard before a priced route',
      [priced(0, 'GET /v1/*', undefined), priced(1, 'GET /v1/joke', '2.00')],
      [[0, 1, 'GET /v1/joke']],
    ],
    [
      'a cheaper route before a dearer one',
      [priced(0, '* /v1/joke', '0.50'), priced(1, 'GET /v1/joke', '2.00')],
      [[0, 1, 'GET /v1/joke']],
    ],
    [
      'a free route before a zero-amount charge',
      [priced(0, 'GET /v1/*', undefined), priced(1, 'GET /v1/me', '0')],
      [[0, 1, 'GET /v1/me']],
    ],
    ['an equal price written differently', [priced(0, 'GET /v1/*', '0.5'), priced(1, 'GET /v1/joke', '0.50')], []],
    ['a dearer route first', [priced(0, 'GET /v1/*', '3'), priced(1, 'GET /v1/joke', '2.00')], []],
    ['a free catch-all last', [priced(0, 'GET /v1/joke', '2.00'), priced(1, '* /*', undefined)], []],
    ['an intended overlap', [priced(0, 'GET /v1/*', undefined, true), priced(1, 'GET /v1/joke', '2.00')], []],
    ['disjoint methods', [priced(0, 'POST /v1/*', undefined), priced(1, 'GET /v1/joke', '2.00')], []],
    [
      'every earlier route that takes a request',
      [priced(0, 'GET /v1/*', undefined), priced(1, 'GET /v1/:id', '0.10'), priced(2, 'GET /v1/joke', '2.00')],
      [
        [0, 1, 'GET /v1/x'],
        [0, 2, 'GET /v1/joke'],
        [1, 2, 'GET /v1/joke'],
      ],
    ],
  ] as const)('%s', (_name, routes, expected) => {
    expect(
      findShadowing(routes).map(({ earlier, later, example }) => [earlier, later, `${example.method} ${example.path}`]),
    ).toEqual(expected)
  })
})
