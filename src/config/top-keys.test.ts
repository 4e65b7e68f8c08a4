import { describe, expect, it } from 'vitest'
import { parseConfig } from './load.js'

const FILE = 'gateway.config.yaml'

const config = (extra: string) => `
realm: "api.example.com"
upstream:
  url: "http://127.0.0.1:3000"
methods:
  stripe:
    secretKey: "sk_test_51Hunter2SuperSecretValue"
    networkId: "net_123"
routes:
  - match: "GET /v1/models"
    price: "free"
${extra}
`

const errors = (text: string): string[] => {
  const result = parseConfig(text, FILE, {})
  return result.ok ? [] : result.errors
}

describe('the top-level keys', () => {
  it('loads a config with only known keys', () => {
    expect(parseConfig(config(''), FILE, {}).ok).toBe(true)
  })

  it('refuses an unknown key written with nothing after it', () => {
    expect(errors(config('secretkey:'))).toEqual([`${FILE}: secretkey: unknown key (did you mean "secretKey"?)`])
  })

  it('names every unknown key in the order written, __proto__ too', () => {
    expect(errors(config('__proto__: 1\nrealms: "x"'))).toEqual([
      `${FILE}: __proto__: unknown key (known keys: listen, realm, secretKey, previousSecretKeys, challengeTtl, currency, upstream, store, recovery, log, methods, routes, mode, trustedProxies, cors, rateLimit, discovery, shutdown, limits, watch, workers, routing, admin)`,
      `${FILE}: realms: unknown key (did you mean "realm"?)`,
    ])
  })

  it('reports an unknown key whose value has a bad ${...} as well as the bad value', () => {
    const found = errors(config('realms: "${"'))
    expect(found).toHaveLength(2)
    expect(found[1]).toBe(`${FILE}: realms: unknown key (did you mean "realm"?)`)
    expect(found[0]).toMatch(/^gateway\.config\.yaml: realms: /)
  })
})
