import { describe, expect, it } from 'vitest'
import { describeRoutes } from './describe.js'
import { parseConfig } from './load.js'

const text = `
realm: "api.example.com"
currency: "eur"
upstream:
  url: "http://127.0.0.1:3000"
methods:
  stripe:
    secretKey: "sk_test_abc"
    networkId: "net_1"
routes:
  - match: "GET /v1/models"
    price: "free"
  - match: "POST /v1/chat/completions"
    price: "0.50"
  - match: "GET /v1/reports/:id"
    price: "0.001"
  - match: "* /public/*"
    price: "free"
`

describe('describeRoutes', () => {
  it('prints one aligned line per route with each method offer', () => {
    const loaded = parseConfig(text, 'g.yaml', {})
    if (!loaded.ok) throw new Error(loaded.errors.join('\n'))
    const seen: number[] = []
    const out = describeRoutes(loaded.config, (route) => {
      seen.push(route.index)
      if (route.index === 1)
        return [
          { method: 'stripe', price: '50 eur' },
          { method: 'tempo', unavailable: 'no such network' },
        ]
      return [{ method: 'stripe', unavailable: 'eur has 2 decimals; 0.001 is not a whole number of cents' }]
    })
    expect(out).toBe(
      [
        '#  match                      price      methods',
        '0  GET /v1/models             free       -',
        '1  POST /v1/chat/completions  0.50 eur   stripe: 50 eur; tempo: not offered: no such network',
        '2  GET /v1/reports/:id        0.001 eur  stripe: not offered: eur has 2 decimals; 0.001 is not a whole number of cents',
        '3  * /public/*                free       -',
        '',
      ].join('\n'),
    )
    // Free routes are not asked about: no method charges them.
    expect(seen).toEqual([1, 2])
  })
})

describe('describeRoutes: follow-up keys', () => {
  it('says which route grants a key and which takes one', () => {
    const loaded = parseConfig(
      `realm: "api.example.com"
upstream: { url: "http://127.0.0.1:3000" }
methods: { stripe: { secretKey: "sk_test_abc", networkId: "net_1" } }
routes:
  - match: "POST /agent/orders"
    price: "1.00"
    grant: { name: "order", header: "X-Api-Key", idFrom: "response-body:/id" }
  - match: "GET /agent/orders/:id"
    access: { grant: "order", param: "id" }
`,
      'g.yaml',
      {},
    )
    if (!loaded.ok) throw new Error(loaded.errors.join('\n'))
    expect(describeRoutes(loaded.config, () => [{ method: 'stripe', price: '1.00 usd' }])).toBe(
      [
        '#  match                  price                       methods',
        '0  POST /agent/orders     1.00 usd, grants order key  stripe: 1.00 usd',
        '1  GET /agent/orders/:id  free, order key             -',
        '',
      ].join('\n'),
    )
  })
})
