import { describe, expect, it } from 'vitest'
import {
  bodyLimitFindings,
  duplicateProblem,
  type MethodsState,
  priceFinding,
  routeMethodsFindings,
} from './cross-checks.js'
import { limitsSchema } from './schema.js'
import type { RouteConfig, RoutePrice } from './types.js'

const CHARGE: RoutePrice = { kind: 'charge', amount: { text: '0.50', units: 50n, scale: 2 } }
const state = (over: Partial<MethodsState> = {}): MethodsState => ({
  configured: ['tempo', 'stripe'],
  disabled: new Map(),
  example: false,
  ...over,
})
const TEMPO_OFF = new Map([['tempo', 'methods.tempo.recipient is empty (set TEMPO_RECIPIENT to your address)']])

describe('duplicateProblem', () => {
  it('lets the first route with a method and path through and names it for the later ones', () => {
    const seen = new Map<string, number>()
    expect(duplicateProblem(seen, { method: 'GET', path: '/a' }, 0)).toBeUndefined()
    expect(duplicateProblem(seen, { method: 'POST', path: '/a' }, 1)).toBeUndefined()
    expect(duplicateProblem(seen, { method: 'GET', path: '/a' }, 2)).toBe('duplicate of routes[0] ("GET /a")')
  })
})

describe('priceFinding', () => {
  it('needs a configured, enabled method for a priced route; a free one needs none', () => {
    expect(priceFinding({ kind: 'free' }, 'p', state({ configured: [] }), false)).toBeUndefined()
    expect(priceFinding(CHARGE, 'p', state({ configured: [] }), false)).toEqual({
      path: 'p',
      problem: 'no payment method is configured',
    })
    expect(priceFinding(CHARGE, 'p', state({ configured: ['tempo'], disabled: TEMPO_OFF }), false)).toEqual({
      path: 'p',
      problem:
        'no payment method is enabled: tempo is disabled because methods.tempo.recipient is empty (set TEMPO_RECIPIENT to your address)',
    })
    expect(priceFinding(CHARGE, 'p', state({ configured: ['tempo'], disabled: TEMPO_OFF }), true)).toBeUndefined()
    expect(priceFinding(CHARGE, 'p', state({ disabled: TEMPO_OFF }), false)).toBeUndefined()
  })

  it('only warns in the sample config, whose priced routes answer 503', () => {
    expect(
      priceFinding(CHARGE, 'p', state({ configured: ['tempo'], disabled: TEMPO_OFF, example: true }), false),
    ).toEqual({
      path: 'p',
      notice:
        'no payment method is enabled, so this route answers 503 (tempo is disabled because methods.tempo.recipient is empty (set TEMPO_RECIPIENT to your address); or run with --sandbox)',
    })
  })
})

describe('routeMethodsFindings', () => {
  it('names each method that is unknown, listed twice or disabled, at its index', () => {
    expect(routeMethodsFindings(['tempo', 'stripe'], 'm', state())).toEqual([])
    expect(routeMethodsFindings(['nope', 'stripe', 'stripe', 'tempo'], 'm', state({ disabled: TEMPO_OFF }))).toEqual([
      { path: 'm[0]', problem: '"nope" is not configured under methods' },
      { path: 'm[2]', problem: '"stripe" is listed twice' },
      {
        path: 'm[3]',
        problem: '"tempo" is disabled because methods.tempo.recipient is empty (set TEMPO_RECIPIENT to your address)',
      },
    ])
    expect(routeMethodsFindings(['tempo'], 'm', state({ disabled: TEMPO_OFF, example: true }))).toEqual([
      {
        path: 'm[0]',
        notice:
          'no payment method is enabled, so this route answers 503 (tempo is disabled because methods.tempo.recipient is empty (set TEMPO_RECIPIENT to your address); or run with --sandbox)',
      },
    ])
  })
})

describe('bodyLimitFindings', () => {
  it('warns about a priced route whose body limit is above what the gateway buffers, not a free one', () => {
    const limits = { ...limitsSchema.parse({}), bufferedBytes: 1000 }
    const route = (index: number, price: RoutePrice, maxBodyBytes: number): RouteConfig => ({
      index,
      match: `POST /r${index}`,
      method: 'POST',
      path: `/r${index}`,
      price,
      mode: 'enforce',
      maxBodyBytes,
    })
    expect(
      bodyLimitFindings([route(0, CHARGE, 1000), route(1, { kind: 'free' }, 5000), route(2, CHARGE, 1001)], limits),
    ).toEqual([
      {
        path: 'routes[2].maxBodyBytes',
        notice: 'maxBodyBytes 1001 is above limits.bufferedBytes 1000: a body that large always gets 503',
      },
    ])
  })
})
