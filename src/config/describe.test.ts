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
