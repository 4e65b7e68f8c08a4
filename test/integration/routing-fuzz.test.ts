import http from 'node:http'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PricedBehindExpress, startPricedBehindExpress } from '../support/express-upstream.js'
import type { TestGateway } from '../support/gateway.js'
import { request } from '../support/http.js'

// The property of issue 11: no request target on which Express (stock, default settings) routes the
// forwarded request to a priced handler while the gateway forwarded it through the free catch-all.
const PRICED = ['GET /v1/paid', 'GET /v1/reports/:id', 'POST /v1/files/*', '* /api/Items']
const BASES = [
  '/v1/paid',
  '/v1/reports/r1',
  '/v1/reports/%7Er',
  '/v1/files/a/b',
  '/v1/files',
  '/api/Items',
  '/api/items/x',
  '/v1/paid/more',
]
const METHODS = ['GET', 'GET', 'GET', 'HEAD', 'POST', 'POST', 'PUT', 'DELETE']

let gw: TestGateway
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })

let stack: PricedBehindExpress

beforeAll(async () => {
  stack = await startPricedBehindExpress(PRICED)
  gw = stack.gw
})
afterAll(async () => {
  agent.destroy()
  await stack?.close()
})

const hex = (code: number, lower: boolean) => {
  const text = code.toString(16).toUpperCase().padStart(2, '0')
  return `%${lower ? text.toLowerCase() : text}`
}

/** One character of a segment: as is, in the other case, or percent-encoded (either hex case). */
const spellChar = (char: string) =>
  fc.oneof(
    { arbitrary: fc.constant(char), weight: 4 },
    { arbitrary: fc.constant(char === char.toLowerCase() ? char.toUpperCase() : char.toLowerCase()), weight: 3 },
    { arbitrary: fc.boolean().map((lower) => hex(char.charCodeAt(0), lower)), weight: 1 },
  )

const spellSegment = (segment: string) =>
  segment.startsWith('%')
    ? fc.constant(segment)
    : fc.tuple(...[...segment].map(spellChar)).map((chars) => chars.join(''))

// Whatever may sit between or after segments: empty and dot segments, escapes of reserved
// characters, ";" parameters, double encodings, overlong dots, a query.
const often = <T>(usual: T, others: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: fc.constant(usual), weight: 6 }, { arbitrary: others, weight: 1 })
const separator = often('/', fc.constantFrom('//', '/./', '/%2e/', '/zz/../', '/zz/%2E%2e/', '/;/', '/%3B/'))
const noise = often(
  '',
  fc.constantFrom(
    '/',
    '//',
    '/.',
    '/./',
    '/..',
    '/zz/..',
    ';x',
    ';',
    '%3B',
    '%3b',
    '%2F',
    '%2e',
    '%2E%2E',
    '%252e',
    '%25',
    '%C0%AE',
    '%E0%80%AE',
    '%20',
    '.',
    '~',
    '%7E',
    '%41',
    '?q=1',
    '/?q=/v1/paid',
  ),
)

const target = fc
  .tuple(fc.constantFrom(...BASES), often('', fc.constantFrom('/', '//', '/./')))
  .chain(([base, prefix]) => {
    const segments = base.split('/').slice(1)
    return fc.tuple(
      fc.constant(prefix),
      fc.tuple(...segments.map((segment) => fc.tuple(separator, spellSegment(segment), noise))),
      fc.oneof(noise, fc.constantFrom('/', '//', '/.', '?x=1')),
    )
  })
  .map(([prefix, parts, tail]) =>
    `${prefix}${parts.map(([sep, segment, extra]) => `${sep}${segment}${extra}`).join('')}${tail}`.replace(
      /^(?!\/)/,
      '/',
    ),
  )

describe('route matching (property, against a stock Express 5 upstream)', () => {
  it('never forwards through the free route what Express routes to a priced handler', async () => {
    // 150 cases: about 1 s on a quiet machine, so the property stays under ~2 s in a loaded CI.
    let priced = 0
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...METHODS), target, async (method, path) => {
        const res = await request(gw.url + path, { method, agent })
        const handler = res.headers['x-handler']
        if (handler !== undefined && handler !== 'catch-all')
          throw new Error(`${method} ${path} reached the priced handler ${String(handler)} with status ${res.status}`)
        if (res.status === 402) priced++
        expect([200, 400, 402, 404]).toContain(res.status)
      }),
      { numRuns: 150 },
    )
    // The generator does reach priced routes (most spellings are charged, not refused).
    expect(priced).toBeGreaterThan(15)
  })
})
