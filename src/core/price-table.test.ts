import { describe, expect, it } from 'vitest'
import { parseDecimal } from '../config/amount.js'
import type { GatewayConfig, RouteConfig } from '../config/types.js'
import type { PaymentMethod } from './method.js'
import { encodeJson } from '../protocol/challenge.js'
import { resolveOffers } from './price-table.js'

/** A method that charges prices up to `max` (in the gateway currency), in cents. */
function method(name: string, max = '1000'): PaymentMethod {
  return {
    name,
    quote: (amount) =>
      Number(amount.text) <= Number(max)
        ? { ok: true, request: { amount: String(Number(amount.text) * 100), currency: 'usd' } }
        : { ok: false, reason: `at most ${max}` },
    settle: async () => ({ reference: '' }),
  }
}

function route(index: number, price: string | undefined, methods?: string[]): RouteConfig {
  return {
    index,
    match: `GET /r${index}`,
    price: price === undefined ? { kind: 'free' } : { kind: 'charge', amount: parseDecimal(price)! },
    ...(methods && { methods }),
  } as RouteConfig
}

function config(routes: RouteConfig[], example = false): GatewayConfig {
  return { displayName: 'gateway.yaml', currency: 'usd', routes, upstream: { example } } as unknown as GatewayConfig
}

const methods = (...list: PaymentMethod[]) => new Map(list.map((m) => [m.name, m]))

describe('resolveOffers', () => {
  it('offers every configured method that can charge the price, in config order, with the encoded request', () => {
    const routes = [route(0, '0.50'), route(1, undefined)]
    const { table, errors } = resolveOffers(config(routes), methods(method('stripe'), method('tempo')))
    expect(errors).toEqual([])
    const offers = table.get(routes[0]!)!.offers
    expect(offers.map((o) => o.method.name)).toEqual(['stripe', 'tempo'])
    expect(offers[0]).toMatchObject({ intent: 'charge', request: { amount: '50', currency: 'usd' } })
    expect(offers[0]!.encodedRequest).toBe(encodeJson({ amount: '50', currency: 'usd' }))
    expect(table.get(routes[1]!)).toEqual({ route: routes[1], offers: [], unavailable: [] })
  })

  it('quietly skips a default method that cannot charge the price, and says why', () => {
    const routes = [route(0, '5')]
    const { table, errors } = resolveOffers(config(routes), methods(method('stripe'), method('tempo', '1')))
    expect(errors).toEqual([])
    expect(table.get(routes[0]!)!.unavailable).toEqual([{ method: 'tempo', reason: 'at most 1' }])
  })

  it('is a config error when a named method cannot charge the price, or is not configured', () => {
    const { errors } = resolveOffers(
      config([route(0, '5', ['tempo']), route(1, '1', ['paypal'])]),
      methods(method('tempo', '1')),
    )
    expect(errors).toEqual([
      'gateway.yaml: routes[0].methods: tempo cannot charge 5 usd: at most 1',
      'gateway.yaml: routes[1].methods: "paypal" is not configured under methods',
    ])
  })

  it('is a config error when no method can charge a price, except in the sample config with no method', () => {
    expect(resolveOffers(config([route(0, '5')]), methods(method('tempo', '1'))).errors).toEqual([
      'gateway.yaml: routes[0].price: no configured method can charge 5 usd (tempo: at most 1)',
    ])
    expect(resolveOffers(config([route(0, '5')]), methods()).errors).toEqual([
      'gateway.yaml: routes[0].price: no configured method can charge 5 usd (no payment method is configured)',
    ])
    expect(resolveOffers(config([route(0, '5')], true), methods()).errors).toEqual([])
  })
})
