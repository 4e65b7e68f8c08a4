import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig, parseConfig, type Env, type LoadResult } from './load.js'
import type { GatewayConfig } from './types.js'

const FILE = 'gateway.config.yaml'
const SECRET = 'x'.repeat(40)
const STRIPE_KEY = 'sk_test_51Hunter2SuperSecretValue'
const ENV: Env = { MPP_SECRET_KEY: SECRET, STRIPE_SECRET_KEY: STRIPE_KEY, STRIPE_NETWORK_ID: 'net_123' }

const EXAMPLE = `
listen: "0.0.0.0:8402"
realm: "api.example.com"
secretKey: "\${MPP_SECRET_KEY}"
previousSecretKeys: []
challengeTtl: "5m"
currency: "usd"
upstream:
  url: "http://127.0.0.1:3000"
  timeout: "30s"
store:
  url: "redis://127.0.0.1:6379"
  keyPrefix: "mppgw:"
methods:
  stripe:
    secretKey: "\${STRIPE_SECRET_KEY}"
    networkId: "\${STRIPE_NETWORK_ID}"
    paymentMethodTypes: ["card", "link"]
    apiVersion: "2026-07-29.preview"
    apiBase: "https://api.stripe.com"
routes:
  - match: "GET /v1/models"
    price: "free"
  - match: "POST /v1/chat/completions"
    price: "0.50"
    description: "Chat completion"
  - match: "GET /v1/reports/:id"
    price: "1.25"
    methods: ["stripe"]
  - match: "* /public/*"
    price: "free"
`

/** A small valid config; `extra` is appended at the top level, `route` replaces the single route's body. */
function minimal({ extra = '', route = '    price: "0.50"', stripe = true }: { extra?: string; route?: string; stripe?: boolean } = {}): string {
  return [
    'realm: "api.example.com"',
    'upstream:',
    '  url: "http://127.0.0.1:3000"',
    ...(stripe ? ['methods:', '  stripe:', '    secretKey: "sk_test_abc"', '    networkId: "net_1"'] : []),
    'routes:',
    '  - match: "GET /x"',
    route,
    extra,
  ].join('\n')
}

function ok(text: string, env: Env = ENV): { config: GatewayConfig; warnings: string[] } {
  const result = parseConfig(text, FILE, env)
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.errors.join('\n')}`)
  return result
}

function errors(text: string, env: Env = ENV): string[] {
  const result: LoadResult = parseConfig(text, FILE, env)
  if (result.ok) throw new Error('expected errors, the config loaded')
  return result.errors
}

describe('parseConfig: the example config', () => {
  it('loads into the typed config', () => {
    const { config, warnings } = ok(EXAMPLE)
    expect(warnings).toEqual([])
    expect(config.file).toBe(resolve(FILE))
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 8402 })
    expect(config.realm).toBe('api.example.com')
    expect(config.secretKey).toBe(SECRET)
    expect(config.previousSecretKeys).toEqual([])
    expect(config.challengeTtlMs).toBe(300_000)
    expect(config.currency).toBe('usd')
    expect(config.upstream.url.href).toBe('http://127.0.0.1:3000/')
    expect(config.upstream.timeoutMs).toBe(30_000)
    expect(config.store).toEqual({ url: 'redis://127.0.0.1:6379', keyPrefix: 'mppgw:' })
    expect(config.logLevel).toBe('info')
    expect(config.methods.stripe).toEqual({
      secretKey: STRIPE_KEY,
      networkId: 'net_123',
      paymentMethodTypes: ['card', 'link'],
      apiVersion: '2026-07-29.preview',
      apiBase: 'https://api.stripe.com',
      timeoutMs: 10_000,
    })
    expect(config.routes).toEqual([
      { index: 0, match: 'GET /v1/models', method: 'GET', path: '/v1/models', price: { kind: 'free' }, maxBodyBytes: 1_048_576 },
      {
        index: 1,
        match: 'POST /v1/chat/completions',
        method: 'POST',
        path: '/v1/chat/completions',
        price: { kind: 'charge', amount: { text: '0.50', units: 50n, scale: 2 } },
        description: 'Chat completion',
        maxBodyBytes: 1_048_576,
      },
      {
        index: 2,
        match: 'GET /v1/reports/:id',
        method: 'GET',
        path: '/v1/reports/:id',
        price: { kind: 'charge', amount: { text: '1.25', units: 125n, scale: 2 } },
        methods: ['stripe'],
        maxBodyBytes: 1_048_576,
      },
      { index: 3, match: '* /public/*', method: '*', path: '/public/*', price: { kind: 'free' }, maxBodyBytes: 1_048_576 },
    ])
  })

  it('leaves secretKey undefined and warns when its variable is unset', () => {
    const { config, warnings } = ok(EXAMPLE, { ...ENV, MPP_SECRET_KEY: undefined })
    expect(config.secretKey).toBeUndefined()
    expect('secretKey' in config).toBe(false)
    expect(warnings).toEqual([`${FILE}: secretKey: environment variable MPP_SECRET_KEY is not set, so it expands to ""`])
  })
})

describe('parseConfig: defaults and accepted forms', () => {
  it('applies defaults', () => {
    const { config } = ok(minimal())
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 8402 })
    expect(config.secretKey).toBeUndefined()
    expect(config.previousSecretKeys).toEqual([])
    expect(config.challengeTtlMs).toBe(300_000)
    expect(config.currency).toBe('usd')
    expect(config.upstream.timeoutMs).toBe(30_000)
    expect(config.store).toEqual({ keyPrefix: 'mppgw:' })
    expect(config.logLevel).toBe('info')
    expect(config.methods.stripe).toMatchObject({ paymentMethodTypes: ['card'], apiVersion: '2026-07-29.preview', apiBase: 'https://api.stripe.com', timeoutMs: 10_000 })
    expect(config.routes[0]!.maxBodyBytes).toBe(1_048_576)
    expect(config.routes[0]!.methods).toBeUndefined()
  })

  it.each([
    ['"127.0.0.1:8080"', { host: '127.0.0.1', port: 8080 }],
    ['":0"', { host: '0.0.0.0', port: 0 }],
    ['"[::1]:8402"', { host: '::1', port: 8402 }],
    ['"localhost:65535"', { host: 'localhost', port: 65535 }],
  ])('accepts listen %s', (listen, expected) => {
    expect(ok(minimal({ extra: `listen: ${listen}` })).config.listen).toEqual(expected)
  })

  it('treats empty keys (YAML null) as absent', () => {
    const { config } = ok(minimal({ extra: 'store:\nlog:\npreviousSecretKeys:' }))
    expect(config.store).toEqual({ keyPrefix: 'mppgw:' })
    expect(config.logLevel).toBe('info')
  })

  it('normalizes the upstream URL and keeps its base path', () => {
    const text = minimal().replace('http://127.0.0.1:3000', 'https://backend.internal:8443/api/v1/')
    const url = ok(text).config.upstream.url
    expect(url.href).toBe('https://backend.internal:8443/api/v1')
    expect(url.pathname).toBe('/api/v1')
  })

  it('stores the currency in lower case, the route method in upper case and the match as written', () => {
    const { config } = ok(minimal({ extra: 'currency: "EUR"' }).replace('GET /x', 'post /x'))
    expect(config.currency).toBe('eur')
    expect(config.routes[0]).toMatchObject({ match: 'post /x', method: 'POST', path: '/x' })
  })

  it('reads every field', () => {
    const text = minimal({
      extra: [
        `previousSecretKeys: ["${'a'.repeat(32)}", ""]`,
        'challengeTtl: "1m30s"',
        'log:',
        '  level: debug',
        'store:',
        '  url: ""',
        '  keyPrefix: "other:"',
      ].join('\n'),
      route: '    price: "0.000001"\n    maxBodyBytes: 10\n    description: "A \'quoted\' thing"',
    }).replace('    networkId: "net_1"', '    networkId: "net_1"\n    timeout: "2s"\n    apiBase: "http://127.0.0.1:12111/"\n    apiVersion: "2025-01-01"')
    const { config } = ok(text)
    expect(config.previousSecretKeys).toEqual(['a'.repeat(32)])
    expect(config.challengeTtlMs).toBe(90_000)
    expect(config.logLevel).toBe('debug')
    expect(config.store).toEqual({ keyPrefix: 'other:' })
    expect(config.methods.stripe).toMatchObject({ timeoutMs: 2000, apiBase: 'http://127.0.0.1:12111', apiVersion: '2025-01-01' })
    expect(config.routes[0]).toMatchObject({ maxBodyBytes: 10, description: "A 'quoted' thing", price: { kind: 'charge', amount: { units: 1n, scale: 6 } } })
  })

  it('loads price "0" as a zero-amount charge, not as a free route', () => {
    const { config } = ok(minimal({ route: '    price: "0"' }))
    expect(config.routes[0]!.price).toMatchObject({ kind: 'charge', amount: { text: '0', units: 0n } })
  })

  it('allows free routes without any payment method', () => {
    const { config } = ok(minimal({ stripe: false, route: '    price: "free"' }))
    expect(config.methods).toEqual({})
  })

  it('accepts rediss:// stores and restricted Stripe keys', () => {
    const text = minimal({ extra: 'store:\n  url: "rediss://:pw@redis.internal:6380/1"' }).replace('sk_test_abc', 'rk_live_abc')
    const { config } = ok(text)
    expect(config.store.url).toBe('rediss://:pw@redis.internal:6380/1')
    expect(config.methods.stripe?.secretKey).toBe('rk_live_abc')
  })
})

describe('parseConfig: environment variables', () => {
  it('expands variables and defaults in every string value, including lists', () => {
    const text = minimal({
      extra: 'currency: "${CURRENCY:-eur}"\nchallengeTtl: "${TTL:-10s}"',
    }).replace('"sk_test_abc"', '"${KEY}"').replace('"net_1"', '"${NET:-net_default}"').replace('    networkId', '    paymentMethodTypes: ["${PMT}", "link"]\n    networkId')
    const { config, warnings } = ok(text, { KEY: 'sk_test_env', TTL: '', PMT: 'card' })
    expect(config.currency).toBe('eur')
    expect(config.challengeTtlMs).toBe(10_000)
    expect(config.methods.stripe).toMatchObject({ secretKey: 'sk_test_env', networkId: 'net_default', paymentMethodTypes: ['card', 'link'] })
    expect(warnings).toEqual([])
  })

  it('does not expand keys, and $$ is a literal $', () => {
    const { config } = ok(minimal({ route: '    price: "0.50"\n    description: "costs $$1"' }))
    expect(config.routes[0]!.description).toBe('costs $1')
    expect(errors(minimal({ extra: '${X}: 1' }), { X: 'realm' })).toEqual([`${FILE}: "\${X}": unknown key (known keys: listen, realm, secretKey, previousSecretKeys, challengeTtl, currency, upstream, store, log, methods, routes)`])
  })

  it('says which variable is not set when a required value ends up empty', () => {
    expect(errors(EXAMPLE, { MPP_SECRET_KEY: SECRET })).toEqual([
      `${FILE}: methods.stripe.secretKey: is empty (environment variable STRIPE_SECRET_KEY is not set)`,
      `${FILE}: methods.stripe.networkId: is empty (environment variable STRIPE_NETWORK_ID is not set)`,
    ])
  })

  it('names every unset variable of a value', () => {
    expect(errors(minimal().replace('"net_1"', '"${A}${B}"'), {})).toEqual([`${FILE}: methods.stripe.networkId: is empty (environment variables A, B are not set)`])
  })

  it('does not blame a variable that is set but empty', () => {
    expect(errors(minimal().replace('"net_1"', '"${A}"'), { A: '' })).toEqual([`${FILE}: methods.stripe.networkId: is empty`])
  })

  it('turns bad ${...} syntax into an error at its key', () => {
    expect(errors(minimal().replace('"net_1"', '"net_${1"'))).toEqual([
      `${FILE}: methods.stripe.networkId: unclosed "\${" at character 5 (write "$$" for a literal "$")`,
    ])
    expect(errors(minimal({ extra: 'realm: "${no-dash}"' }).replace('realm: "api.example.com"\n', ''))[0]).toMatch(
      new RegExp(`^${FILE}: realm: invalid variable reference at character 1`),
    )
  })
})

describe('parseConfig: errors', () => {
  const cases: Array<[string, string, string]> = [
    // [what, config text, expected error]
    ['an empty file', '', `${FILE}: the file is empty; it needs at least realm, upstream and routes`],
    ['a top level that is not a mapping', '- a\n- b\n', `${FILE}: must be a mapping (got a list)`],
    ['a missing realm', minimal().replace('realm: "api.example.com"\n', ''), `${FILE}: realm: is required`],
    ['an empty realm', minimal().replace('"api.example.com"', '""'), `${FILE}: realm: is empty`],
    ['a realm with a quote', minimal().replace('"api.example.com"', `'a"b'`), `${FILE}: realm: must be printable ASCII without '"' or '\\'`],
    ['a realm that is not a string', minimal().replace('"api.example.com"', '[a]'), `${FILE}: realm: must be a string (got a list)`],
    ['a listen number', minimal({ extra: 'listen: 8402' }), `${FILE}: listen: must be a quoted string like ":8402" (got a number)`],
    ['a listen without port', minimal({ extra: 'listen: "localhost"' }), `${FILE}: listen: "localhost" must be "host:port", ":port" or "[ipv6]:port"`],
    ['a listen port out of range', minimal({ extra: 'listen: ":65536"' }), `${FILE}: listen: port 65536 is out of range (0-65535)`],
    ['a bare IPv6 listen', minimal({ extra: 'listen: "::1:80"' }), `${FILE}: listen: "::1:80" must be "host:port", ":port" or "[ipv6]:port" (IPv6 addresses go in brackets)`],
    ['a bad bracketed host', minimal({ extra: 'listen: "[nope]:80"' }), `${FILE}: listen: "nope" is not an IPv6 address`],
    ['a bad host', minimal({ extra: 'listen: "a_b:80"' }), `${FILE}: listen: "a_b" is not a valid host`],
    ['a short secretKey', minimal({ extra: 'secretKey: "short"' }), `${FILE}: secretKey: is too short (5 bytes); use at least 32 random bytes, e.g. from \`openssl rand -base64 32\``],
    ['a short previous key', minimal({ extra: 'previousSecretKeys: ["tiny"]' }), `${FILE}: previousSecretKeys[0]: is too short (4 bytes); use at least 32 random bytes, e.g. from \`openssl rand -base64 32\``],
    ['previousSecretKeys not a list', minimal({ extra: 'previousSecretKeys: "k"' }), `${FILE}: previousSecretKeys: must be a list of strings (got a string)`],
    ['a previous key that is a number', minimal({ extra: 'previousSecretKeys: [5]' }), `${FILE}: previousSecretKeys[0]: must be a string (got a number)`],
    ['a bad duration', minimal({ extra: 'challengeTtl: "5 minutes"' }), `${FILE}: challengeTtl: "5 minutes" is not a duration (use e.g. "500ms", "30s", "5m", "1h" or "1m30s")`],
    ['a numeric duration', minimal({ extra: 'challengeTtl: 300' }), `${FILE}: challengeTtl: must be a duration string like "5m" (got a number)`],
    ['a too short challengeTtl', minimal({ extra: 'challengeTtl: "500ms"' }), `${FILE}: challengeTtl: must be at least 1s`],
    ['a zero upstream timeout', minimal().replace('  url: "http://127.0.0.1:3000"', '  url: "http://127.0.0.1:3000"\n  timeout: "0s"'), `${FILE}: upstream.timeout: must be at least 1ms`],
    ['a bad currency', minimal({ extra: 'currency: "dollars"' }), `${FILE}: currency: "dollars" must be a 3-letter ISO 4217 code like "usd"`],
    ['a missing upstream', minimal().replace('upstream:\n  url: "http://127.0.0.1:3000"\n', ''), `${FILE}: upstream: is required`],
    ['an upstream string', minimal().replace('upstream:\n  url: "http://127.0.0.1:3000"', 'upstream: "http://x"'), `${FILE}: upstream: must be a mapping (got a string)`],
    ['a missing upstream url', minimal().replace('  url: "http://127.0.0.1:3000"', '  timeout: "1s"'), `${FILE}: upstream.url: is required`],
    ['an invalid upstream url', minimal().replace('http://127.0.0.1:3000', 'not a url'), `${FILE}: upstream.url: "not a url" is not a valid URL`],
    ['a non-http upstream', minimal().replace('http://127.0.0.1:3000', 'ftp://host'), `${FILE}: upstream.url: "ftp://host" must use http or https`],
    ['an upstream with a query', minimal().replace('http://127.0.0.1:3000', 'http://host/?a=1'), `${FILE}: upstream.url: "http://host/?a=1" must not contain a query`],
    ['an upstream with a fragment', minimal().replace('http://127.0.0.1:3000', 'http://host/#x'), `${FILE}: upstream.url: "http://host/#x" must not contain a fragment`],
    ['an upstream with credentials', minimal().replace('http://127.0.0.1:3000', 'http://user:pw@host'), `${FILE}: upstream.url: must not contain credentials (user:password@)`],
    ['a non-redis store', minimal({ extra: 'store:\n  url: "http://cache:6379"' }), `${FILE}: store.url: must start with redis:// or rediss://`],
    ['an unparsable store url', minimal({ extra: 'store:\n  url: "nonsense"' }), `${FILE}: store.url: is not a valid URL (expected redis://host:port or rediss://host:port)`],
    ['a bad log level', minimal({ extra: 'log:\n  level: verbose' }), `${FILE}: log.level: "verbose" is not a log level (use debug, info, warn, error)`],
    ['an unknown payment method', minimal({ extra: 'methods:\n  paypal: {}', stripe: false, route: '    price: "free"' }), `${FILE}: methods.paypal: unknown payment method (known: stripe)`],
    ['methods that is a list', minimal({ extra: 'methods: [stripe]', stripe: false, route: '    price: "free"' }), `${FILE}: methods: must be a mapping (got a list)`],
    ['an empty stripe entry', minimal({ stripe: false, extra: 'methods:\n  stripe:', route: '    price: "free"' }), `${FILE}: methods.stripe: must be a mapping with at least secretKey and networkId`],
    ['a missing Stripe key', minimal().replace('    secretKey: "sk_test_abc"\n', ''), `${FILE}: methods.stripe.secretKey: is required`],
    ['a publishable Stripe key', minimal().replace('sk_test_abc', 'pk_test_abc'), `${FILE}: methods.stripe.secretKey: is a publishable key (pk_...); use a secret key (sk_...) or a restricted key (rk_...)`],
    ['a Stripe key of another shape', minimal().replace('sk_test_abc', 'whsec_abc'), `${FILE}: methods.stripe.secretKey: must start with "sk_" or "rk_" (a Stripe secret or restricted key)`],
    ['a Stripe key with whitespace', minimal().replace('"sk_test_abc"', '"sk_test_abc\\n"'), `${FILE}: methods.stripe.secretKey: contains whitespace`],
    ['a missing networkId', minimal().replace('    networkId: "net_1"', ''), `${FILE}: methods.stripe.networkId: is required`],
    ['empty paymentMethodTypes', minimal().replace('    networkId: "net_1"', '    networkId: "net_1"\n    paymentMethodTypes: []'), `${FILE}: methods.stripe.paymentMethodTypes: must not be empty (the default is ["card"])`],
    ['a duplicate payment method type', minimal().replace('    networkId: "net_1"', '    networkId: "net_1"\n    paymentMethodTypes: [card, card]'), `${FILE}: methods.stripe.paymentMethodTypes[1]: "card" is listed twice`],
    ['a bad apiBase', minimal().replace('    networkId: "net_1"', '    networkId: "net_1"\n    apiBase: "api.stripe.com"'), `${FILE}: methods.stripe.apiBase: "api.stripe.com" is not a valid URL`],
    ['a missing routes', minimal().replace(/routes:[\s\S]*/, ''), `${FILE}: routes: is required`],
    ['empty routes', minimal().replace(/routes:[\s\S]*/, 'routes: []'), `${FILE}: routes: must list at least one route`],
    ['routes as a mapping', minimal().replace(/routes:[\s\S]*/, 'routes:\n  a: 1'), `${FILE}: routes: must be a list of routes (got a mapping)`],
    ['a route that is a string', minimal().replace(/routes:[\s\S]*/, 'routes:\n  - "GET /x"'), `${FILE}: routes[0]: must be a mapping (got a string)`],
    ['a missing match', minimal().replace('  - match: "GET /x"\n', '  -\n'), `${FILE}: routes[0].match: is required`],
    ['a match without a path', minimal().replace('GET /x', 'GET'), `${FILE}: routes[0].match: "GET" must be "METHOD /path", e.g. "GET /v1/models"`],
    ['an unknown HTTP method', minimal().replace('GET /x', 'FETCH /x'), `${FILE}: routes[0].match: unknown HTTP method "FETCH" (use GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or *)`],
    ['a relative path', minimal().replace('GET /x', 'GET x'), `${FILE}: routes[0].match: path "x" must start with "/"`],
    ['a path with //', minimal().replace('GET /x', 'GET /v1//x'), `${FILE}: routes[0].match: path "/v1//x" is not in canonical form; write "/v1/x"`],
    ['a path with ..', minimal().replace('GET /x', 'GET /v1/../x'), `${FILE}: routes[0].match: path "/v1/../x" is not in canonical form; write "/x"`],
    ['a path with a backslash', minimal().replace('"GET /x"', `'GET /a\\b'`), `${FILE}: routes[0].match: path "/a\\\\b" is not acceptable: backslash`],
    ['a path climbing above the root', minimal().replace('GET /x', 'GET /../x'), `${FILE}: routes[0].match: path "/../x" is not acceptable: ".." climbs above the root`],
    ['a path with percent-escapes', minimal().replace('GET /x', 'GET /caf%C3%A9'), `${FILE}: routes[0].match: path "/caf%C3%A9" must not contain percent-escapes`],
    ['a gateway path', minimal().replace('GET /x', 'GET /__gateway/health'), `${FILE}: routes[0].match: paths under /__gateway/ are reserved for the gateway`],
    ['a wildcard in the middle', minimal().replace('GET /x', 'GET /a/*/b'), `${FILE}: routes[0].match: "*" is only allowed as the last segment`],
    ['a partial wildcard', minimal().replace('GET /x', 'GET /a*'), `${FILE}: routes[0].match: "*" is only allowed as a whole last segment`],
    ['a bad parameter name', minimal().replace('GET /x', 'GET /a/:1d'), `${FILE}: routes[0].match: invalid parameter ":1d" (a name is a letter or "_" followed by letters, digits or "_")`],
    ['a repeated parameter', minimal().replace('GET /x', 'GET /:id/:id'), `${FILE}: routes[0].match: parameter ":id" is used twice`],
    ['a missing price', minimal({ route: '    description: "x"' }), `${FILE}: routes[0].price: is required`],
    ['a YAML number price', minimal({ route: '    price: 0.50' }), `${FILE}: routes[0].price: must be a quoted decimal string like "0.50" (YAML numbers are floats)`],
    ['a non-decimal price', minimal({ route: '    price: "abc"' }), `${FILE}: routes[0].price: "abc" is not a decimal amount`],
    ['a negative price', minimal({ route: '    price: "-1"' }), `${FILE}: routes[0].price: "-1" is not a decimal amount`],
    ['too many fraction digits', minimal({ route: `    price: "0.${'0'.repeat(18)}1"` }), `${FILE}: routes[0].price: "0.0000000000000000001" has more than 18 fraction digits`],
    ['a boolean price', minimal({ route: '    price: true' }), `${FILE}: routes[0].price: must be a string (got a boolean)`],
    ['a priced route without methods', minimal({ stripe: false }), `${FILE}: routes[0].price: no payment method is configured`],
    ['a control character in a description', minimal({ route: '    price: "1"\n    description: "a\\tb"' }), `${FILE}: routes[0].description: must be printable ASCII (it is sent in an HTTP header)`],
    ['a non-ASCII description', minimal({ route: '    price: "1"\n    description: "café"' }), `${FILE}: routes[0].description: must be printable ASCII (it is sent in an HTTP header)`],
    ['an unconfigured route method', minimal({ route: '    price: "1"\n    methods: ["tempo"]' }), `${FILE}: routes[0].methods[0]: "tempo" is not configured under methods`],
    ['an empty route methods', minimal({ route: '    price: "1"\n    methods: []' }), `${FILE}: routes[0].methods: must not be empty (leave it out to offer every configured method)`],
    ['methods on a free route', minimal({ route: '    price: "free"\n    methods: ["stripe"]' }), `${FILE}: routes[0].methods: not allowed on a free route`],
    ['a zero maxBodyBytes', minimal({ route: '    price: "1"\n    maxBodyBytes: 0' }), `${FILE}: routes[0].maxBodyBytes: must be a positive integer number of bytes (got 0)`],
    ['a fractional maxBodyBytes', minimal({ route: '    price: "1"\n    maxBodyBytes: 1.5' }), `${FILE}: routes[0].maxBodyBytes: must be a positive integer number of bytes (got 1.5)`],
    ['a string maxBodyBytes', minimal({ route: '    price: "1"\n    maxBodyBytes: "1MB"' }), `${FILE}: routes[0].maxBodyBytes: must be a positive integer number of bytes (got a string)`],
    ['a typo in a route key', minimal({ route: '    prise: "1"\n    price: "1"' }), `${FILE}: routes[0].prise: unknown key (did you mean "price"?)`],
    ['a typo in a top-level key', minimal({ extra: 'secret_key: "x"' }), `${FILE}: secret_key: unknown key (did you mean "secretKey"?)`],
    ['a typo in a stripe key', minimal().replace('networkId', 'networkID'), `${FILE}: methods.stripe.networkID: unknown key (did you mean "networkId"?)`],
    ['an unknown upstream key', minimal().replace('  url: "http://127.0.0.1:3000"', '  url: "http://127.0.0.1:3000"\n  retries: 3'), `${FILE}: upstream.retries: unknown key (known keys: url, timeout)`],
  ]

  it.each(cases)('reports %s', (_what, text, expected) => {
    const found = errors(text)
    expect(found).toContain(expected)
  })

  it('reports only the expected error for each case', () => {
    // Cases are built so that exactly one thing is wrong, except where a second error is inherent.
    const inherent = new Set(['a missing networkId', 'a typo in a stripe key', 'a typo in a route key'])
    for (const [what, text, expected] of cases) {
      const found = errors(text)
      if (inherent.has(what)) continue
      expect(found, what).toEqual([expected])
    }
  })

  it('reports a duplicate match on the later route, comparing method case-insensitively', () => {
    const text = minimal({ route: '    price: "1"\n  - match: "GET /y"\n    price: "free"\n  - match: "get /x"\n    price: "free"' })
    expect(errors(text)).toEqual([`${FILE}: routes[2].match: duplicate of routes[0] ("GET /x")`])
  })

  it('reports YAML syntax errors with line and column', () => {
    expect(errors('realm: "x"\nrealm: "y"\n')).toEqual([`${FILE}:2:1: Map keys must be unique`])
    expect(errors('realm: "unterminated\n')[0]).toMatch(new RegExp(`^${FILE}:\\d+:\\d+: Missing closing "quote`))
  })

  it('reports an unresolvable alias', () => {
    expect(errors('realm: *nope\n')[0]).toMatch(new RegExp(`^${FILE}: Unresolved alias`))
  })

  it('collects every error at once, in document order', () => {
    const text = `
listen: ":99999"
realm: ""
secretKey: "short"
challengeTtl: "soon"
currency: "us"
upstream:
  url: "ftp://x"
  timout: "1s"
log:
  level: loud
methods:
  stripe:
    secretKey: "pk_live_123"
  bogus: {}
routes:
  - match: "GET /a"
    price: 1
  - match: "BREW /b"
    price: "1.2.3"
    methods: ["stripe", "nope"]
  - match: "GET /a"
    price: "free"
`
    expect(errors(text)).toEqual([
      `${FILE}: listen: port 99999 is out of range (0-65535)`,
      `${FILE}: realm: is empty`,
      `${FILE}: secretKey: is too short (5 bytes); use at least 32 random bytes, e.g. from \`openssl rand -base64 32\``,
      `${FILE}: challengeTtl: "soon" is not a duration (use e.g. "500ms", "30s", "5m", "1h" or "1m30s")`,
      `${FILE}: currency: "us" must be a 3-letter ISO 4217 code like "usd"`,
      `${FILE}: upstream.timout: unknown key (did you mean "timeout"?)`,
      `${FILE}: upstream.url: "ftp://x" must use http or https`,
      `${FILE}: log.level: "loud" is not a log level (use debug, info, warn, error)`,
      `${FILE}: methods.stripe.secretKey: is a publishable key (pk_...); use a secret key (sk_...) or a restricted key (rk_...)`,
      `${FILE}: methods.stripe.networkId: is required`,
      `${FILE}: methods.bogus: unknown payment method (known: stripe)`,
      `${FILE}: routes[0].price: must be a quoted decimal string like "0.50" (YAML numbers are floats)`,
      `${FILE}: routes[1].match: unknown HTTP method "BREW" (use GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or *)`,
      `${FILE}: routes[1].price: "1.2.3" is not a decimal amount`,
      `${FILE}: routes[1].methods[1]: "nope" is not configured under methods`,
      `${FILE}: routes[2].match: duplicate of routes[0] ("GET /a")`,
    ])
  })
})

describe('parseConfig: secrets stay out of messages', () => {
  const secretish = 'sk_live_THIS-MUST-NOT-LEAK'
  const variants: Array<[string, string]> = [
    ['a Stripe key with whitespace', minimal().replace('"sk_test_abc"', `"${secretish} "`)],
    ['a Stripe key with a wrong prefix', minimal().replace('"sk_test_abc"', '"THIS-MUST-NOT-LEAK"')],
    ['a short gateway key', minimal({ extra: 'secretKey: "THIS-MUST-NOT-LEAK"' })],
    ['a short previous key', minimal({ extra: 'previousSecretKeys: ["THIS-MUST-NOT-LEAK"]' })],
    ['a redis password in a bad URL', minimal({ extra: 'store:\n  url: "http://:THIS-MUST-NOT-LEAK@cache:6379"' })],
    ['an upstream password', minimal().replace('http://127.0.0.1:3000', 'http://u:THIS-MUST-NOT-LEAK@host')],
    ['an upstream password in an invalid URL', minimal().replace('http://127.0.0.1:3000', 'ftp://u:THIS-MUST-NOT-LEAK@host')],
    ['bad ${ syntax inside a secret', minimal().replace('"sk_test_abc"', '"sk_THIS-MUST-NOT-LEAK${"')],
    ['a secret key given as a number', minimal().replace('"sk_test_abc"', '12345678901234567890')],
  ]

  it.each(variants)('%s', (_what, text) => {
    const found = errors(text)
    expect(found.length).toBeGreaterThan(0)
    for (const error of found) expect(error).not.toContain('THIS-MUST-NOT-LEAK')
    expect(found.join('\n')).not.toContain('12345678901234567890')
  })

  it('keeps expanded secrets out of messages', () => {
    const found = errors(minimal({ extra: 'secretKey: "${GW}"' }).replace('"sk_test_abc"', '"${SK}"'), { GW: 'THIS-MUST-NOT-LEAK', SK: 'THIS-MUST-NOT-LEAK' })
    expect(found).toHaveLength(2)
    for (const error of found) expect(error).not.toContain('THIS-MUST-NOT-LEAK')
  })
})

describe('loadConfig', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('reads a file, resolves its path and uses the given environment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mppgw-config-'))
    dirs.push(dir)
    const file = join(dir, 'gateway.config.yaml')
    await writeFile(file, EXAMPLE)
    const result = await loadConfig(file, { env: ENV })
    expect(result.ok).toBe(true)
    if (result.ok) expect(result.config.file).toBe(resolve(file))
  })

  it('names the file as displayName in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mppgw-config-'))
    dirs.push(dir)
    const file = join(dir, 'g.yaml')
    await writeFile(file, 'realm: ""\n')
    const result = await loadConfig(file, { env: {}, displayName: 'g.yaml' })
    expect(result).toEqual({ ok: false, errors: ['g.yaml: realm: is empty', 'g.yaml: upstream: is required', 'g.yaml: routes: is required'] })
  })

  it('reports an unreadable file as one error', async () => {
    const result = await loadConfig('/nonexistent/dir/gateway.config.yaml', { env: {} })
    expect(result).toEqual({ ok: false, errors: ['/nonexistent/dir/gateway.config.yaml: cannot read: no such file'] })
  })
})
