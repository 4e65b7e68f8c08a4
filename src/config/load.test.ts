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
function minimal({
  extra = '',
  route = '    price: "0.50"',
  stripe = true,
}: {
  extra?: string
  route?: string
  stripe?: boolean
} = {}): string {
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
    expect(config.upstream.stripRequestHeaders).toEqual([])
    expect(config.store).toEqual({ url: 'redis://127.0.0.1:6379', keyPrefix: 'mppgw:' })
    expect(config.logLevel).toBe('info')
    expect(config.methods.stripe).toEqual({
      secretKey: STRIPE_KEY,
      networkId: 'net_123',
      paymentMethodTypes: ['card', 'link'],
      apiVersion: '2026-07-29.preview',
      apiBase: 'https://api.stripe.com',
      timeoutMs: 10_000,
      cryptoApiVersion: '2026-07-29.preview',
    })
    expect(config.routes).toEqual([
      {
        index: 0,
        match: 'GET /v1/models',
        method: 'GET',
        path: '/v1/models',
        price: { kind: 'free' },
        maxBodyBytes: 1_048_576,
        mode: 'enforce',
      },
      {
        index: 1,
        match: 'POST /v1/chat/completions',
        method: 'POST',
        path: '/v1/chat/completions',
        price: { kind: 'charge', amount: { text: '0.50', units: 50n, scale: 2 } },
        description: 'Chat completion',
        maxBodyBytes: 1_048_576,
        mode: 'enforce',
        onUpstreamFailure: { action: 'retry', windowMs: 600_000, maxRetries: 3 },
      },
      {
        index: 2,
        match: 'GET /v1/reports/:id',
        method: 'GET',
        path: '/v1/reports/:id',
        price: { kind: 'charge', amount: { text: '1.25', units: 125n, scale: 2 } },
        methods: ['stripe'],
        maxBodyBytes: 1_048_576,
        mode: 'enforce',
        onUpstreamFailure: { action: 'retry', windowMs: 600_000, maxRetries: 3 },
      },
      {
        index: 3,
        match: '* /public/*',
        method: '*',
        path: '/public/*',
        price: { kind: 'free' },
        maxBodyBytes: 1_048_576,
        mode: 'enforce',
      },
    ])
  })

  it('reads onUpstreamFailure, and names the key and the problem of a bad one', () => {
    const route = (policy: string) => minimal({ route: `    price: "0.50"\n    onUpstreamFailure: ${policy}` })
    expect(ok(route('{ window: "2m", maxRetries: 1 }')).config.routes[0]!.onUpstreamFailure).toEqual({
      action: 'retry',
      windowMs: 120_000,
      maxRetries: 1,
    })
    expect(errors(route('{ action: "refund" }'))).toContain(
      `${FILE}: routes[0].onUpstreamFailure.action: must be "retry" (got "refund"; refunds are not built yet)`,
    )
    expect(errors(route('{ maxRetries: -1 }'))).toContain(
      `${FILE}: routes[0].onUpstreamFailure.maxRetries: must be a whole number from 0 to 100 (got -1)`,
    )
  })

  it('leaves secretKey undefined and warns when its variable is unset, without a shared store', () => {
    const { config, warnings } = ok(EXAMPLE.replace('url: "redis://127.0.0.1:6379"', 'url: ""'), {
      ...ENV,
      MPP_SECRET_KEY: undefined,
    })
    expect(config.secretKey).toBeUndefined()
    expect('secretKey' in config).toBe(false)
    expect(warnings).toEqual([
      `${FILE}: secretKey: environment variable MPP_SECRET_KEY is not set, so it expands to ""`,
    ])
  })

  it("refuses an unset secretKey with a shared store: replicas would refuse each other's challenges", () => {
    expect(errors(EXAMPLE, { ...ENV, MPP_SECRET_KEY: undefined })).toEqual([
      `${FILE}: secretKey: is required with store.url: replicas sharing a store must share the challenge key, or each refuses the challenges of the others (openssl rand -base64 32) (environment variable MPP_SECRET_KEY is not set)`,
    ])
  })

  it('refuses a challenge key copied from the examples, without echoing it', () => {
    const found = errors(EXAMPLE, { ...ENV, MPP_SECRET_KEY: 'replace-with-openssl-rand-base64-32-output' })
    expect(found).toEqual([
      `${FILE}: secretKey: is a placeholder copied from the examples; set a random key (openssl rand -base64 32)`,
    ])
    expect(
      errors(EXAMPLE.replace('previousSecretKeys: []', 'previousSecretKeys: ["sk_..._replace_me_with_a_real_key_ok"]')),
    ).toEqual([
      `${FILE}: previousSecretKeys[0]: is a placeholder copied from the examples; set a random key (openssl rand -base64 32)`,
    ])
  })

  it('disables stripe with a warning on a placeholder key or network id, naming the variables to set', () => {
    const { config, warnings } = ok(
      EXAMPLE.replace('"${STRIPE_SECRET_KEY}"', '"${STRIPE_SECRET_KEY:-sk_test_replace_me}"')
        .replace('"${STRIPE_NETWORK_ID}"', '"${STRIPE_NETWORK_ID:-profile_replace_me}"')
        .replace(/ {2}- match: "POST[^]*$/, ''),
      {
        MPP_SECRET_KEY: SECRET,
      },
    )
    expect(config.methods).toEqual({})
    expect(warnings).toEqual([
      `${FILE}: methods.stripe.secretKey and methods.stripe.networkId: are placeholders from the examples, so the stripe method is disabled (set STRIPE_SECRET_KEY, STRIPE_NETWORK_ID to your own Stripe values)`,
    ])
    expect(errors(EXAMPLE, { ...ENV, STRIPE_NETWORK_ID: 'profile_replace_me' })).toEqual([
      `${FILE}: routes[1].price: no payment method is enabled: stripe is disabled because methods.stripe.networkId is a placeholder (set STRIPE_NETWORK_ID to your own Stripe values)`,
      `${FILE}: routes[2].methods[0]: "stripe" is disabled because methods.stripe.networkId is a placeholder (set STRIPE_NETWORK_ID to your own Stripe values)`,
    ])
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
    expect(config.methods.stripe).toMatchObject({
      paymentMethodTypes: ['card'],
      apiVersion: '2026-07-29.preview',
      apiBase: 'https://api.stripe.com',
      timeoutMs: 10_000,
    })
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

  it('reads upstream.stripRequestHeaders lower-cased', () => {
    const text = minimal().replace(
      '  url: "http://127.0.0.1:3000"',
      '  url: "http://127.0.0.1:3000"\n  stripRequestHeaders: ["X-Debug-User", "x-tenant"]',
    )
    expect(ok(text).config.upstream.stripRequestHeaders).toEqual(['x-debug-user', 'x-tenant'])
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
    }).replace(
      '    networkId: "net_1"',
      '    networkId: "net_1"\n    timeout: "2s"\n    apiBase: "http://127.0.0.1:12111/"\n    apiVersion: "2025-01-01"',
    )
    const { config } = ok(text)
    expect(config.previousSecretKeys).toEqual(['a'.repeat(32)])
    expect(config.challengeTtlMs).toBe(90_000)
    expect(config.logLevel).toBe('debug')
    expect(config.store).toEqual({ keyPrefix: 'other:' })
    expect(config.methods.stripe).toMatchObject({
      timeoutMs: 2000,
      apiBase: 'http://127.0.0.1:12111',
      apiVersion: '2025-01-01',
    })
    expect(config.routes[0]).toMatchObject({
      maxBodyBytes: 10,
      description: "A 'quoted' thing",
      price: { kind: 'charge', amount: { units: 1n, scale: 6 } },
    })
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
    const text = minimal({
      extra: `secretKey: "${SECRET}"\nstore:\n  url: "rediss://:pw@redis.internal:6380/1"`,
    }).replace('sk_test_abc', 'rk_live_abc')
    const { config } = ok(text)
    expect(config.store.url).toBe('rediss://:pw@redis.internal:6380/1')
    expect(config.methods.stripe?.secretKey).toBe('rk_live_abc')
  })
})

describe('parseConfig: environment variables', () => {
  it('expands variables and defaults in every string value, including lists', () => {
    const text = minimal({
      extra: 'currency: "${CURRENCY:-eur}"\nchallengeTtl: "${TTL:-10s}"',
    })
      .replace('"sk_test_abc"', '"${KEY}"')
      .replace('"net_1"', '"${NET:-net_default}"')
      .replace('    networkId', '    paymentMethodTypes: ["${PMT}", "link"]\n    networkId')
    const { config, warnings } = ok(text, { KEY: 'sk_test_env', TTL: '', PMT: 'card' })
    expect(config.currency).toBe('eur')
    expect(config.challengeTtlMs).toBe(10_000)
    expect(config.methods.stripe).toMatchObject({
      secretKey: 'sk_test_env',
      networkId: 'net_default',
      paymentMethodTypes: ['card', 'link'],
    })
    expect(warnings).toEqual([])
  })

  it('does not expand keys, and $$ is a literal $', () => {
    const { config } = ok(minimal({ route: '    price: "0.50"\n    description: "costs $$1"' }))
    expect(config.routes[0]!.description).toBe('costs $1')
    expect(errors(minimal({ extra: '${X}: 1' }), { X: 'realm' })).toEqual([
      `${FILE}: "\${X}": unknown key (known keys: listen, realm, secretKey, previousSecretKeys, challengeTtl, currency, upstream, store, recovery, log, methods, routes, mode, trustedProxies, cors, rateLimit, discovery, shutdown, limits, watch, workers, routing, admin)`,
    ])
  })

  it('says which variable is not set when a required value ends up empty', () => {
    expect(errors(EXAMPLE, { MPP_SECRET_KEY: SECRET })).toEqual([
      `${FILE}: methods.stripe.secretKey: is empty (environment variable STRIPE_SECRET_KEY is not set)`,
      `${FILE}: methods.stripe.networkId: is empty (environment variable STRIPE_NETWORK_ID is not set)`,
    ])
  })

  it('names every unset variable of a value', () => {
    expect(errors(minimal().replace('"net_1"', '"${A}${B}"'), {})).toEqual([
      `${FILE}: methods.stripe.networkId: is empty (environment variables A, B are not set)`,
    ])
  })

  it('does not blame a variable that is set but empty', () => {
    expect(errors(minimal().replace('"net_1"', '"${A}"'), { A: '' })).toEqual([
      `${FILE}: methods.stripe.networkId: is empty`,
    ])
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
    [
      'a realm with a quote',
      minimal().replace('"api.example.com"', `'a"b'`),
      `${FILE}: realm: must be printable ASCII without '"' or '\\'`,
    ],
    [
      'a realm that is not a string',
      minimal().replace('"api.example.com"', '[a]'),
      `${FILE}: realm: must be a string (got a list)`,
    ],
    [
      'a listen number',
      minimal({ extra: 'listen: 8402' }),
      `${FILE}: listen: must be a quoted string like ":8402" (got a number)`,
    ],
    [
      'a listen without port',
      minimal({ extra: 'listen: "localhost"' }),
      `${FILE}: listen: "localhost" must be "host:port", ":port" or "[ipv6]:port"`,
    ],
    [
      'a listen port out of range',
      minimal({ extra: 'listen: ":65536"' }),
      `${FILE}: listen: port 65536 is out of range (0-65535)`,
    ],
    [
      'a bare IPv6 listen',
      minimal({ extra: 'listen: "::1:80"' }),
      `${FILE}: listen: "::1:80" must be "host:port", ":port" or "[ipv6]:port" (IPv6 addresses go in brackets)`,
    ],
    [
      'a bad bracketed host',
      minimal({ extra: 'listen: "[nope]:80"' }),
      `${FILE}: listen: "nope" is not an IPv6 address`,
    ],
    ['a bad host', minimal({ extra: 'listen: "a_b:80"' }), `${FILE}: listen: "a_b" is not a valid host`],
    [
      'a short secretKey',
      minimal({ extra: 'secretKey: "short"' }),
      `${FILE}: secretKey: is too short (5 bytes); use at least 32 random bytes, e.g. from \`openssl rand -base64 32\``,
    ],
    [
      'a short previous key',
      minimal({ extra: 'previousSecretKeys: ["tiny"]' }),
      `${FILE}: previousSecretKeys[0]: is too short (4 bytes); use at least 32 random bytes, e.g. from \`openssl rand -base64 32\``,
    ],
    [
      'previousSecretKeys not a list',
      minimal({ extra: 'previousSecretKeys: "k"' }),
      `${FILE}: previousSecretKeys: must be a list of strings (got a string)`,
    ],
    [
      'a previous key that is a number',
      minimal({ extra: 'previousSecretKeys: [5]' }),
      `${FILE}: previousSecretKeys[0]: must be a string (got a number)`,
    ],
    [
      'a bad duration',
      minimal({ extra: 'challengeTtl: "5 minutes"' }),
      `${FILE}: challengeTtl: "5 minutes" is not a duration (use e.g. "500ms", "30s", "5m", "1h" or "1m30s")`,
    ],
    [
      'a numeric duration',
      minimal({ extra: 'challengeTtl: 300' }),
      `${FILE}: challengeTtl: must be a duration string like "5m" (got a number)`,
    ],
    [
      'a too short challengeTtl',
      minimal({ extra: 'challengeTtl: "500ms"' }),
      `${FILE}: challengeTtl: must be at least 1s`,
    ],
    [
      'a zero upstream timeout',
      minimal().replace('  url: "http://127.0.0.1:3000"', '  url: "http://127.0.0.1:3000"\n  timeout: "0s"'),
      `${FILE}: upstream.timeout: must be at least 1ms`,
    ],
    [
      'a bad currency',
      minimal({ extra: 'currency: "dollars"' }),
      `${FILE}: currency: "dollars" must be a 3-letter ISO 4217 code like "usd"`,
    ],
    [
      'a missing upstream',
      minimal().replace('upstream:\n  url: "http://127.0.0.1:3000"\n', ''),
      `${FILE}: upstream: is required`,
    ],
    [
      'an upstream string',
      minimal().replace('upstream:\n  url: "http://127.0.0.1:3000"', 'upstream: "http://x"'),
      `${FILE}: upstream: must be a mapping (got a string)`,
    ],
    [
      'a missing upstream url',
      minimal().replace('  url: "http://127.0.0.1:3000"', '  timeout: "1s"'),
      `${FILE}: upstream.url: is required`,
    ],
    [
      'an invalid upstream url',
      minimal().replace('http://127.0.0.1:3000', 'not a url'),
      `${FILE}: upstream.url: "not a url" is not a valid URL`,
    ],
    [
      'a non-http upstream',
      minimal().replace('http://127.0.0.1:3000', 'ftp://host'),
      `${FILE}: upstream.url: "ftp://host" must use http or https`,
    ],
    [
      'an upstream with a query',
      minimal().replace('http://127.0.0.1:3000', 'http://host/?a=1'),
      `${FILE}: upstream.url: "http://host/?a=1" must not contain a query`,
    ],
    [
      'an upstream with a fragment',
      minimal().replace('http://127.0.0.1:3000', 'http://host/#x'),
      `${FILE}: upstream.url: "http://host/#x" must not contain a fragment`,
    ],
    [
      'an upstream with credentials',
      minimal().replace('http://127.0.0.1:3000', 'http://user:pw@host'),
      `${FILE}: upstream.url: must not contain credentials (user:password@)`,
    ],
    [
      'a non-redis store',
      minimal({ extra: 'store:\n  url: "http://cache:6379"' }),
      `${FILE}: store.url: must start with redis:// or rediss://`,
    ],
    [
      'an unparsable store url',
      minimal({ extra: 'store:\n  url: "nonsense"' }),
      `${FILE}: store.url: is not a valid URL (expected redis://host:port or rediss://host:port)`,
    ],
    [
      'a bad log level',
      minimal({ extra: 'log:\n  level: verbose' }),
      `${FILE}: log.level: "verbose" is not a log level (use debug, info, warn, error)`,
    ],
    [
      'an unknown payment method',
      minimal({ extra: 'methods:\n  paypal: {}', stripe: false, route: '    price: "free"' }),
      `${FILE}: methods.paypal: unknown payment method (known: stripe, tempo)`,
    ],
    [
      'methods that is a list',
      minimal({ extra: 'methods: [stripe]', stripe: false, route: '    price: "free"' }),
      `${FILE}: methods: must be a mapping (got a list)`,
    ],
    [
      'an empty stripe entry',
      minimal({ stripe: false, extra: 'methods:\n  stripe:', route: '    price: "free"' }),
      `${FILE}: methods.stripe: must be a mapping with at least secretKey and networkId`,
    ],
    [
      'a missing Stripe key',
      minimal().replace('    secretKey: "sk_test_abc"\n', ''),
      `${FILE}: methods.stripe.secretKey: is required`,
    ],
    [
      'a publishable Stripe key',
      minimal().replace('sk_test_abc', 'pk_test_abc'),
      `${FILE}: methods.stripe.secretKey: is a publishable key (pk_...); use a secret key (sk_...) or a restricted key (rk_...)`,
    ],
    [
      'a Stripe key of another shape',
      minimal().replace('sk_test_abc', 'whsec_abc'),
      `${FILE}: methods.stripe.secretKey: must start with "sk_" or "rk_" (a Stripe secret or restricted key)`,
    ],
    [
      'a Stripe key with whitespace',
      minimal().replace('"sk_test_abc"', '"sk_test_abc\\n"'),
      `${FILE}: methods.stripe.secretKey: contains whitespace`,
    ],
    [
      'a missing networkId',
      minimal().replace('    networkId: "net_1"', ''),
      `${FILE}: methods.stripe.networkId: is required`,
    ],
    [
      'empty paymentMethodTypes',
      minimal().replace('    networkId: "net_1"', '    networkId: "net_1"\n    paymentMethodTypes: []'),
      `${FILE}: methods.stripe.paymentMethodTypes: must not be empty (the default is ["card"])`,
    ],
    [
      'a duplicate payment method type',
      minimal().replace('    networkId: "net_1"', '    networkId: "net_1"\n    paymentMethodTypes: [card, card]'),
      `${FILE}: methods.stripe.paymentMethodTypes[1]: "card" is listed twice`,
    ],
    [
      'a bad apiBase',
      minimal().replace('    networkId: "net_1"', '    networkId: "net_1"\n    apiBase: "api.stripe.com"'),
      `${FILE}: methods.stripe.apiBase: "api.stripe.com" is not a valid URL`,
    ],
    ['a missing routes', minimal().replace(/routes:[\s\S]*/, ''), `${FILE}: routes: is required`],
    [
      'empty routes',
      minimal().replace(/routes:[\s\S]*/, 'routes: []'),
      `${FILE}: routes: must list at least one route`,
    ],
    [
      'routes as a mapping',
      minimal().replace(/routes:[\s\S]*/, 'routes:\n  a: 1'),
      `${FILE}: routes: must be a list of routes (got a mapping)`,
    ],
    [
      'a route that is a string',
      minimal().replace(/routes:[\s\S]*/, 'routes:\n  - "GET /x"'),
      `${FILE}: routes[0]: must be a mapping (got a string)`,
    ],
    ['a missing match', minimal().replace('  - match: "GET /x"\n', '  -\n'), `${FILE}: routes[0].match: is required`],
    [
      'a match without a path',
      minimal().replace('GET /x', 'GET'),
      `${FILE}: routes[0].match: "GET" must be "METHOD /path", e.g. "GET /v1/models"`,
    ],
    [
      'an unknown HTTP method',
      minimal().replace('GET /x', 'FETCH /x'),
      `${FILE}: routes[0].match: unknown HTTP method "FETCH" (use GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or *)`,
    ],
    ['a relative path', minimal().replace('GET /x', 'GET x'), `${FILE}: routes[0].match: path "x" must start with "/"`],
    [
      'a path with //',
      minimal().replace('GET /x', 'GET /v1//x'),
      `${FILE}: routes[0].match: path "/v1//x" is not in canonical form; write "/v1/x"`,
    ],
    [
      'a path with ..',
      minimal().replace('GET /x', 'GET /v1/../x'),
      `${FILE}: routes[0].match: path "/v1/../x" is not in canonical form; write "/x"`,
    ],
    [
      'a path with a backslash',
      minimal().replace('"GET /x"', `'GET /a\\b'`),
      `${FILE}: routes[0].match: path "/a\\\\b" is not acceptable: backslash`,
    ],
    [
      'a path climbing above the root',
      minimal().replace('GET /x', 'GET /../x'),
      `${FILE}: routes[0].match: path "/../x" is not acceptable: ".." climbs above the root`,
    ],
    [
      'a path with percent-escapes',
      minimal().replace('GET /x', 'GET /caf%C3%A9'),
      `${FILE}: routes[0].match: path "/caf%C3%A9" must not contain percent-escapes`,
    ],
    [
      'a gateway path',
      minimal().replace('GET /x', 'GET /__gateway/health'),
      `${FILE}: routes[0].match: paths under /__gateway/ are reserved for the gateway`,
    ],
    [
      'a gateway path in another case',
      minimal().replace('GET /x', 'GET /__Gateway/health'),
      `${FILE}: routes[0].match: paths under /__gateway/ are reserved for the gateway`,
    ],
    [
      'a wildcard in the middle',
      minimal().replace('GET /x', 'GET /a/*/b'),
      `${FILE}: routes[0].match: "*" is only allowed as the last segment`,
    ],
    [
      'a partial wildcard',
      minimal().replace('GET /x', 'GET /a*'),
      `${FILE}: routes[0].match: "*" is only allowed as a whole last segment`,
    ],
    [
      'a bad parameter name',
      minimal().replace('GET /x', 'GET /a/:1d'),
      `${FILE}: routes[0].match: invalid parameter ":1d" (a name is a letter or "_" followed by letters, digits or "_")`,
    ],
    [
      'a repeated parameter',
      minimal().replace('GET /x', 'GET /:id/:id'),
      `${FILE}: routes[0].match: parameter ":id" is used twice`,
    ],
    ['a missing price', minimal({ route: '    description: "x"' }), `${FILE}: routes[0].price: is required`],
    [
      'a YAML number price',
      minimal({ route: '    price: 0.50' }),
      `${FILE}: routes[0].price: must be a quoted decimal string like "0.50" (YAML numbers are floats)`,
    ],
    [
      'a non-decimal price',
      minimal({ route: '    price: "abc"' }),
      `${FILE}: routes[0].price: "abc" is not a decimal amount`,
    ],
    [
      'a negative price',
      minimal({ route: '    price: "-1"' }),
      `${FILE}: routes[0].price: "-1" is not a decimal amount`,
    ],
    [
      'too many fraction digits',
      minimal({ route: `    price: "0.${'0'.repeat(18)}1"` }),
      `${FILE}: routes[0].price: "0.0000000000000000001" has more than 18 fraction digits`,
    ],
    [
      'a boolean price',
      minimal({ route: '    price: true' }),
      `${FILE}: routes[0].price: must be a string (got a boolean)`,
    ],
    [
      'a priced route without methods',
      minimal({ stripe: false }),
      `${FILE}: routes[0].price: no payment method is configured`,
    ],
    [
      'a control character in a description',
      minimal({ route: '    price: "1"\n    description: "a\\tb"' }),
      `${FILE}: routes[0].description: must be printable ASCII (it is sent in an HTTP header)`,
    ],
    [
      'a non-ASCII description',
      minimal({ route: '    price: "1"\n    description: "café"' }),
      `${FILE}: routes[0].description: must be printable ASCII (it is sent in an HTTP header)`,
    ],
    [
      'an unconfigured route method',
      minimal({ route: '    price: "1"\n    methods: ["tempo"]' }),
      `${FILE}: routes[0].methods[0]: "tempo" is not configured under methods`,
    ],
    [
      'an empty route methods',
      minimal({ route: '    price: "1"\n    methods: []' }),
      `${FILE}: routes[0].methods: must not be empty (leave it out to offer every configured method)`,
    ],
    [
      'methods on a free route',
      minimal({ route: '    price: "free"\n    methods: ["stripe"]' }),
      `${FILE}: routes[0].methods: not allowed on a free route`,
    ],
    [
      'a zero maxBodyBytes',
      minimal({ route: '    price: "1"\n    maxBodyBytes: 0' }),
      `${FILE}: routes[0].maxBodyBytes: must be a positive integer number of bytes (got 0)`,
    ],
    [
      'a fractional maxBodyBytes',
      minimal({ route: '    price: "1"\n    maxBodyBytes: 1.5' }),
      `${FILE}: routes[0].maxBodyBytes: must be a positive integer number of bytes (got 1.5)`,
    ],
    [
      'a string maxBodyBytes',
      minimal({ route: '    price: "1"\n    maxBodyBytes: "1MB"' }),
      `${FILE}: routes[0].maxBodyBytes: must be a positive integer number of bytes (got a string)`,
    ],
    [
      'a typo in a route key',
      minimal({ route: '    prise: "1"\n    price: "1"' }),
      `${FILE}: routes[0].prise: unknown key (did you mean "price"?)`,
    ],
    [
      'a typo in a top-level key',
      minimal({ extra: 'secret_key: "x"' }),
      `${FILE}: secret_key: unknown key (did you mean "secretKey"?)`,
    ],
    [
      'a typo in a stripe key',
      minimal().replace('networkId', 'networkID'),
      `${FILE}: methods.stripe.networkID: unknown key (did you mean "networkId"?)`,
    ],
    [
      'an unknown upstream key',
      minimal().replace('  url: "http://127.0.0.1:3000"', '  url: "http://127.0.0.1:3000"\n  retries: 3'),
      `${FILE}: upstream.retries: unknown key (known keys: url, timeout, stripRequestHeaders)`,
    ],
    [
      'a typo in stripRequestHeaders',
      minimal().replace('  url: "http://127.0.0.1:3000"', '  url: "http://127.0.0.1:3000"\n  stripRequestHeader: []'),
      `${FILE}: upstream.stripRequestHeader: unknown key (did you mean "stripRequestHeaders"?)`,
    ],
    [
      'stripRequestHeaders not a list',
      minimal().replace(
        '  url: "http://127.0.0.1:3000"',
        '  url: "http://127.0.0.1:3000"\n  stripRequestHeaders: "X-A"',
      ),
      `${FILE}: upstream.stripRequestHeaders: must be a list of strings (got a string)`,
    ],
    [
      'a stripped header that is no header name',
      minimal().replace(
        '  url: "http://127.0.0.1:3000"',
        '  url: "http://127.0.0.1:3000"\n  stripRequestHeaders: ["X-Ok", "X-Debug: 1"]',
      ),
      `${FILE}: upstream.stripRequestHeaders[1]: "X-Debug: 1" is not a header name (letters, digits and !#$%&'*+-.^_\`|~ only, no spaces or colons)`,
    ],
    [
      'stripping a header the gateway sets',
      minimal().replace(
        '  url: "http://127.0.0.1:3000"',
        '  url: "http://127.0.0.1:3000"\n  stripRequestHeaders: ["Host"]',
      ),
      `${FILE}: upstream.stripRequestHeaders[0]: "Host" is set by the gateway itself and cannot be stripped`,
    ],
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
    const text = minimal({
      route: '    price: "1"\n  - match: "GET /y"\n    price: "free"\n  - match: "get /x"\n    price: "free"',
    })
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
      `${FILE}: methods.bogus: unknown payment method (known: stripe, tempo)`,
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
    [
      'an upstream password in an invalid URL',
      minimal().replace('http://127.0.0.1:3000', 'ftp://u:THIS-MUST-NOT-LEAK@host'),
    ],
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
    const found = errors(minimal({ extra: 'secretKey: "${GW}"' }).replace('"sk_test_abc"', '"${SK}"'), {
      GW: 'THIS-MUST-NOT-LEAK',
      SK: 'THIS-MUST-NOT-LEAK',
    })
    expect(found).toHaveLength(2)
    for (const error of found) expect(error).not.toContain('THIS-MUST-NOT-LEAK')
  })
})

describe('parseConfig: the tempo method', () => {
  /** checksum form of the spec's example recipient (the spec's own mixed-case spelling fails EIP-55) */
  const RECIPIENT = '0x742d35Cc6634c0532925a3b844bC9e7595F8fE00'
  const RECIPIENT_LOWER = RECIPIENT.toLowerCase()
  /** pathUSD, in checksum form */
  const PATH_USD = '0x20C0000000000000000000000000000000000000'
  const FEE_KEY = `0x${'5ec4e7'.repeat(10)}5ec4`

  /** A config with a tempo method (`tempo` holds its lines, indented under methods.tempo), optionally followed by stripe. */
  function withTempo({
    tempo = [`recipient: "${RECIPIENT_LOWER}"`],
    route = '    price: "0.50"',
    stripe = false,
    extra = [],
  }: {
    tempo?: string[]
    route?: string
    stripe?: boolean | string[]
    extra?: string[]
  } = {}): string {
    return [
      'realm: "api.example.com"',
      'upstream:',
      '  url: "http://127.0.0.1:3000"',
      'methods:',
      '  tempo:',
      ...tempo.map((line) => `    ${line}`),
      ...(stripe === true
        ? ['  stripe:', '    secretKey: "sk_test_abc"', '    networkId: "net_1"']
        : stripe
          ? ['  stripe:', ...stripe.map((line) => `    ${line}`)]
          : []),
      'routes:',
      '  - match: "GET /x"',
      route,
      ...extra,
    ].join('\n')
  }

  it('loads a full tempo block', () => {
    const text = withTempo({
      tempo: [
        'rpcUrl: "${TEMPO_RPC_URL:-https://rpc.example.com/v1/abc}"',
        'chainId: 4217',
        'currency: "0x20c0000000000000000000006a37DA5C996874BE"',
        `recipient: "${RECIPIENT}"`,
        'modes: ["pull"]',
        'feePayer:',
        '  privateKey: "${TEMPO_FEE_PAYER_KEY}"',
        '  feeToken: "0x20c0000000000000000000000000000000000001"',
        '  maxGas: 500000',
        '  maxFeePerGas: "20000000000"',
        '  maxFee: "0.012345"',
        '  maxInFlight: 3',
        'timeout: "2s"',
        'txClaimTtl: "2h"',
      ],
    })
    const { config, warnings } = ok(text, { TEMPO_FEE_PAYER_KEY: FEE_KEY })
    expect(warnings).toEqual([])
    expect(config.methods.tempo).toEqual({
      rpcUrl: 'https://rpc.example.com/v1/abc',
      chainId: 4217,
      currency: '0x20c0000000000000000000006a37DA5C996874BE',
      recipient: RECIPIENT,
      modes: ['pull'],
      feePayer: {
        privateKey: FEE_KEY,
        feeToken: '0x20C0000000000000000000000000000000000001',
        maxGas: 500_000n,
        maxFeePerGas: 20_000_000_000n,
        maxFee: 12_345n,
        maxInFlight: 3,
      },
      timeoutMs: 2000,
      txClaimTtlMs: 7_200_000,
    })
  })

  it('fills in defaults: Moderato, pathUSD, both modes, 10s timeout, 30d claims', () => {
    const { config, warnings } = ok(withTempo())
    expect(warnings).toEqual([])
    expect(config.methods).toEqual({
      tempo: {
        rpcUrl: 'https://rpc.moderato.tempo.xyz',
        chainId: 42431,
        currency: PATH_USD,
        recipient: RECIPIENT,
        modes: ['pull', 'push'],
        timeoutMs: 10_000,
        txClaimTtlMs: 30 * 86_400_000,
      },
    })
  })

  it('fills in fee payer defaults: the currency as fee token, pull only, and the default bounds', () => {
    const { config } = ok(
      withTempo({
        tempo: [
          `recipient: "${RECIPIENT_LOWER}"`,
          'currency: "0x20c0000000000000000000000000000000000001"',
          'feePayer:',
          `  privateKey: "${FEE_KEY}"`,
        ],
      }),
    )
    expect(config.methods.tempo?.modes).toEqual(['pull'])
    expect(config.methods.tempo?.feePayer).toEqual({
      privateKey: FEE_KEY,
      feeToken: '0x20C0000000000000000000000000000000000001',
      maxGas: 2_000_000n,
      maxFeePerGas: 100_000_000_000n,
      maxFee: 50_000n,
      maxInFlight: 16,
    })
  })

  it('defaults the RPC URL of mainnet (chainId 4217)', () => {
    expect(
      ok(withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'chainId: 4217'] })).config.methods.tempo?.rpcUrl,
    ).toBe('https://rpc.tempo.xyz')
  })

  it('keeps the methods in the order written', () => {
    const { config } = ok(withTempo({ stripe: true }))
    expect(Object.keys(config.methods)).toEqual(['tempo', 'stripe'])
    const stripeFirst = minimal().replace(
      '    networkId: "net_1"',
      `    networkId: "net_1"\n  tempo:\n    recipient: "${RECIPIENT_LOWER}"`,
    )
    expect(Object.keys(ok(stripeFirst).config.methods)).toEqual(['stripe', 'tempo'])
  })

  describe('addresses', () => {
    it('accepts lower case and stores the checksum form', () => {
      expect(ok(withTempo()).config.methods.tempo?.recipient).toBe(RECIPIENT)
    })

    it('accepts upper case and stores the checksum form', () => {
      const upper = `0x${RECIPIENT.slice(2).toUpperCase()}`
      expect(ok(withTempo({ tempo: [`recipient: "${upper}"`] })).config.methods.tempo?.recipient).toBe(RECIPIENT)
    })

    it('accepts mixed case with a valid EIP-55 checksum', () => {
      expect(ok(withTempo({ tempo: [`recipient: "${RECIPIENT}"`] })).config.methods.tempo?.recipient).toBe(RECIPIENT)
    })

    it('refuses mixed case that fails the checksum', () => {
      // The spec's example spelling: one letter's case is off.
      expect(errors(withTempo({ tempo: ['recipient: "0x742d35Cc6634C0532925a3b844Bc9e7595f8fE00"'] }))).toEqual([
        `${FILE}: methods.tempo.recipient: "0x742d35Cc6634C0532925a3b844Bc9e7595f8fE00" fails its EIP-55 checksum (write it in lower case to skip the check)`,
      ])
    })
  })

  describe('an empty recipient disables the method', () => {
    it('warns and leaves tempo out when the variable is unset', () => {
      const { config, warnings } = ok(withTempo({ tempo: ['recipient: "${TEMPO_RECIPIENT:-}"'], stripe: true }), {})
      expect(config.methods.tempo).toBeUndefined()
      expect(Object.keys(config.methods)).toEqual(['stripe'])
      expect(warnings).toEqual([
        `${FILE}: methods.tempo.recipient: is empty, so the tempo method is disabled (set TEMPO_RECIPIENT to the 0x address that receives payments)`,
      ])
    })

    it('says so once, also for a variable without a default', () => {
      const { warnings } = ok(withTempo({ tempo: ['recipient: "${TEMPO_RECIPIENT}"'], stripe: true }), {})
      expect(warnings).toEqual([
        `${FILE}: methods.tempo.recipient: is empty, so the tempo method is disabled (set TEMPO_RECIPIENT to the 0x address that receives payments)`,
      ])
    })

    it('names no variable when the recipient is written empty', () => {
      const { warnings } = ok(withTempo({ tempo: ['recipient: ""'], stripe: true }), {})
      expect(warnings).toEqual([
        `${FILE}: methods.tempo.recipient: is empty, so the tempo method is disabled (set it to the 0x address that receives payments)`,
      ])
    })

    it('still reports the other problems of the block', () => {
      expect(
        errors(withTempo({ tempo: ['recipient: "${TEMPO_RECIPIENT:-}"', 'timeout: "soon"'], stripe: true }), {}),
      ).toEqual([
        `${FILE}: methods.tempo.timeout: "soon" is not a duration (use e.g. "500ms", "30s", "5m", "1h" or "1m30s")`,
      ])
    })

    it('refuses a route that names the disabled method', () => {
      const text = withTempo({
        tempo: ['recipient: "${TEMPO_RECIPIENT:-}"'],
        stripe: true,
        route: '    price: "1"\n    methods: ["stripe", "tempo"]',
      })
      expect(errors(text, {})).toEqual([
        `${FILE}: routes[0].methods[1]: "tempo" is disabled because methods.tempo.recipient is empty (set TEMPO_RECIPIENT to the 0x address that receives payments)`,
      ])
    })

    it('refuses a priced route when tempo is the only method, saying why', () => {
      expect(errors(withTempo({ tempo: ['recipient: "${TEMPO_RECIPIENT:-}"'] }), {})).toEqual([
        `${FILE}: routes[0].price: no payment method is enabled: tempo is disabled because methods.tempo.recipient is empty (set TEMPO_RECIPIENT to the 0x address that receives payments)`,
      ])
    })

    it('allows free routes when tempo is the only method', () => {
      const { config, warnings } = ok(
        withTempo({ tempo: ['recipient: "${TEMPO_RECIPIENT:-}"'], route: '    price: "free"' }),
        {},
      )
      expect(config.methods).toEqual({})
      expect(warnings).toHaveLength(1)
    })
  })

  const cases: Array<[string, string, string]> = [
    // [what, config text, expected error]
    [
      'an empty tempo entry',
      withTempo({ tempo: [] }),
      `${FILE}: methods.tempo: must be a mapping with at least recipient`,
    ],
    ['a missing recipient', withTempo({ tempo: ['chainId: 42431'] }), `${FILE}: methods.tempo.recipient: is required`],
    [
      'a short recipient',
      withTempo({ tempo: ['recipient: "0x1234"'] }),
      `${FILE}: methods.tempo.recipient: must be an address, "0x" followed by 40 hex digits (got 6 characters)`,
    ],
    [
      'a non-hex recipient',
      withTempo({ tempo: [`recipient: "0x${'g'.repeat(40)}"`] }),
      `${FILE}: methods.tempo.recipient: "0x${'g'.repeat(40)}" is not an address ("0x" followed by 40 hex digits)`,
    ],
    [
      'an unquoted recipient',
      withTempo({ tempo: [`recipient: ${RECIPIENT_LOWER}`] }),
      `${FILE}: methods.tempo.recipient: must be a quoted string like "0x…" (YAML reads an unquoted 0x… as a number)`,
    ],
    [
      'a zero recipient',
      withTempo({ tempo: [`recipient: "0x${'0'.repeat(40)}"`] }),
      `${FILE}: methods.tempo.recipient: is the zero address, which would burn the payment`,
    ],
    [
      'a currency that is not a TIP-20 token',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, `currency: "${RECIPIENT_LOWER}"`] }),
      `${FILE}: methods.tempo.currency: "${RECIPIENT}" is not a TIP-20 token address (those start with 0x20c0)`,
    ],
    [
      'a currency with a bad checksum',
      withTempo({
        tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'currency: "0x20c0000000000000000000006a37Da5C996874BE"'],
      }),
      `${FILE}: methods.tempo.currency: "0x20c0000000000000000000006a37Da5C996874BE" fails its EIP-55 checksum (write it in lower case to skip the check)`,
    ],
    [
      'a string chainId',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'chainId: "42431"'] }),
      `${FILE}: methods.tempo.chainId: must be a positive integer like 42431 (got a string)`,
    ],
    [
      'a zero chainId',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'chainId: 0'] }),
      `${FILE}: methods.tempo.chainId: must be a positive integer like 42431 (got 0)`,
    ],
    [
      'an unknown chain without rpcUrl',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'chainId: 1337'] }),
      `${FILE}: methods.tempo.rpcUrl: is required for chainId 1337 (there are defaults only for 42431 and 4217)`,
    ],
    [
      'an empty rpcUrl',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'rpcUrl: "${RPC}"'] }),
      `${FILE}: methods.tempo.rpcUrl: is empty (environment variable RPC is not set)`,
    ],
    [
      'an invalid rpcUrl',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'rpcUrl: "rpc.tempo.xyz"'] }),
      `${FILE}: methods.tempo.rpcUrl: is not a valid URL`,
    ],
    [
      'a websocket rpcUrl',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'rpcUrl: "wss://rpc.tempo.xyz"'] }),
      `${FILE}: methods.tempo.rpcUrl: must use http or https`,
    ],
    [
      'an rpcUrl with credentials',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'rpcUrl: "https://u:p@rpc.tempo.xyz"'] }),
      `${FILE}: methods.tempo.rpcUrl: must not contain credentials (user:password@)`,
    ],
    [
      'modes that is a string',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'modes: "pull"'] }),
      `${FILE}: methods.tempo.modes: must be a list of strings (got a string)`,
    ],
    [
      'empty modes',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'modes: []'] }),
      `${FILE}: methods.tempo.modes: must not be empty (the default is ["pull", "push"], or ["pull"] with a feePayer)`,
    ],
    [
      'an unknown mode',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'modes: ["pull", "hash"]'] }),
      `${FILE}: methods.tempo.modes[1]: "hash" is not a mode (use "pull" or "push")`,
    ],
    [
      'a repeated mode',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'modes: ["pull", "pull"]'] }),
      `${FILE}: methods.tempo.modes[1]: "pull" is listed twice`,
    ],
    [
      'a fee payer with push',
      withTempo({
        tempo: [
          `recipient: "${RECIPIENT_LOWER}"`,
          'modes: ["pull", "push"]',
          'feePayer:',
          `  privateKey: "${FEE_KEY}"`,
        ],
      }),
      `${FILE}: methods.tempo.modes: push payments cannot be fee-sponsored (a client that broadcasts its own transaction pays its own fees); use ["pull"] or remove feePayer`,
    ],
    [
      'a feePayer that is a string',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'feePayer: "yes"'] }),
      `${FILE}: methods.tempo.feePayer: must be a mapping (got a string)`,
    ],
    [
      'a fee payer without a key',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'feePayer:', '  maxGas: 100'] }),
      `${FILE}: methods.tempo.feePayer.privateKey: is required`,
    ],
    [
      'a fee payer key that is unset',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'feePayer:', '  privateKey: "${TEMPO_FEE_PAYER_KEY}"'] }),
      `${FILE}: methods.tempo.feePayer.privateKey: is empty (environment variable TEMPO_FEE_PAYER_KEY is not set)`,
    ],
    [
      'a short fee payer key',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'feePayer:', '  privateKey: "0x1234"'] }),
      `${FILE}: methods.tempo.feePayer.privateKey: must be "0x" followed by 64 hex digits (a secp256k1 private key; got 6 characters)`,
    ],
    [
      'a zero fee payer key',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'feePayer:', `  privateKey: "0x${'0'.repeat(64)}"`] }),
      `${FILE}: methods.tempo.feePayer.privateKey: is zero, which is not a private key`,
    ],
    [
      'a fee payer key beyond the curve order',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'feePayer:', `  privateKey: "0x${'f'.repeat(64)}"`] }),
      `${FILE}: methods.tempo.feePayer.privateKey: is not a valid secp256k1 private key (it is not below the curve order)`,
    ],
    [
      'a fee token that is not a TIP-20 token',
      withTempo({
        tempo: [
          `recipient: "${RECIPIENT_LOWER}"`,
          'feePayer:',
          `  privateKey: "${FEE_KEY}"`,
          `  feeToken: "${RECIPIENT_LOWER}"`,
        ],
      }),
      `${FILE}: methods.tempo.feePayer.feeToken: "${RECIPIENT}" is not a TIP-20 token address (those start with 0x20c0)`,
    ],
    [
      'a zero maxGas',
      withTempo({
        tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'feePayer:', `  privateKey: "${FEE_KEY}"`, '  maxGas: 0'],
      }),
      `${FILE}: methods.tempo.feePayer.maxGas: must be a positive integer like 2000000 (got 0)`,
    ],
    [
      'a string maxGas',
      withTempo({
        tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'feePayer:', `  privateKey: "${FEE_KEY}"`, '  maxGas: "2000000"'],
      }),
      `${FILE}: methods.tempo.feePayer.maxGas: must be a positive integer like 2000000 (got a string)`,
    ],
    [
      'a YAML number maxFeePerGas',
      withTempo({
        tempo: [
          `recipient: "${RECIPIENT_LOWER}"`,
          'feePayer:',
          `  privateKey: "${FEE_KEY}"`,
          '  maxFeePerGas: 100000000000',
        ],
      }),
      `${FILE}: methods.tempo.feePayer.maxFeePerGas: must be a quoted integer string like "100000000000" (attodollars per gas; YAML numbers lose precision)`,
    ],
    [
      'a fractional maxFeePerGas',
      withTempo({
        tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'feePayer:', `  privateKey: "${FEE_KEY}"`, '  maxFeePerGas: "1.5"'],
      }),
      `${FILE}: methods.tempo.feePayer.maxFeePerGas: "1.5" is not a whole number of attodollars per gas`,
    ],
    [
      'a zero maxFeePerGas',
      withTempo({
        tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'feePayer:', `  privateKey: "${FEE_KEY}"`, '  maxFeePerGas: "0"'],
      }),
      `${FILE}: methods.tempo.feePayer.maxFeePerGas: must be greater than zero`,
    ],
    [
      'a YAML number maxFee',
      withTempo({
        tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'feePayer:', `  privateKey: "${FEE_KEY}"`, '  maxFee: 0.05'],
      }),
      `${FILE}: methods.tempo.feePayer.maxFee: must be a quoted decimal string like "0.05" (YAML numbers are floats)`,
    ],
    [
      'a zero maxInFlight',
      withTempo({
        tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'feePayer:', `  privateKey: "${FEE_KEY}"`, '  maxInFlight: 0'],
      }),
      `${FILE}: methods.tempo.feePayer.maxInFlight: must be a positive integer like 16 (got 0)`,
    ],
    [
      'a zero maxFee',
      withTempo({
        tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'feePayer:', `  privateKey: "${FEE_KEY}"`, '  maxFee: "0.000"'],
      }),
      `${FILE}: methods.tempo.feePayer.maxFee: must be greater than zero`,
    ],
    [
      'a maxFee finer than the token',
      withTempo({
        tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'feePayer:', `  privateKey: "${FEE_KEY}"`, '  maxFee: "0.0000001"'],
      }),
      `${FILE}: methods.tempo.feePayer.maxFee: "0.0000001" has more than 6 fraction digits (TIP-20 tokens have 6 decimals)`,
    ],
    [
      'a typo in a fee payer key',
      withTempo({
        tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'feePayer:', `  privateKey: "${FEE_KEY}"`, '  maxFees: "1"'],
      }),
      `${FILE}: methods.tempo.feePayer.maxFees: unknown key (did you mean "maxFee"?)`,
    ],
    [
      'a bad timeout',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'timeout: 10'] }),
      `${FILE}: methods.tempo.timeout: must be a duration string like "10s" (got a number)`,
    ],
    [
      'a too short txClaimTtl',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'txClaimTtl: "59m"'] }),
      `${FILE}: methods.tempo.txClaimTtl: must be at least 1h`,
    ],
    [
      'a typo in a tempo key',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'chainID: 42431'] }),
      `${FILE}: methods.tempo.chainID: unknown key (did you mean "chainId"?)`,
    ],
    [
      'an unknown tempo key',
      withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'gasLimit: 1'] }),
      `${FILE}: methods.tempo.gasLimit: unknown key (known keys: ${['rpcUrl', 'chainId', 'currency', 'recipient', 'modes', 'feePayer', 'timeout', 'txClaimTtl'].join(', ')})`,
    ],
  ]

  it.each(cases)('reports %s', (_what, text, expected) => {
    expect(errors(text)).toContain(expected)
  })

  it('reports only the expected error for each case', () => {
    for (const [what, text, expected] of cases) expect(errors(text), what).toEqual([expected])
  })

  it('collects every tempo error at once', () => {
    const text = withTempo({
      tempo: [
        'rpcUrl: "ftp://x"',
        'chainId: -1',
        'recipient: "0x1"',
        'modes: ["push"]',
        'feePayer:',
        '  privateKey: "0x1"',
        '  maxGas: 1.5',
        'txClaimTtl: "1m"',
      ],
    })
    expect(errors(text)).toEqual([
      `${FILE}: methods.tempo.chainId: must be a positive integer like 42431 (got -1)`,
      `${FILE}: methods.tempo.rpcUrl: must use http or https`,
      `${FILE}: methods.tempo.recipient: must be an address, "0x" followed by 40 hex digits (got 3 characters)`,
      `${FILE}: methods.tempo.modes: push payments cannot be fee-sponsored (a client that broadcasts its own transaction pays its own fees); use ["pull"] or remove feePayer`,
      `${FILE}: methods.tempo.feePayer.privateKey: must be "0x" followed by 64 hex digits (a secp256k1 private key; got 3 characters)`,
      `${FILE}: methods.tempo.feePayer.maxGas: must be a positive integer like 2000000 (got 1.5)`,
      `${FILE}: methods.tempo.txClaimTtl: must be at least 1h`,
    ])
  })

  describe('the fee payer key stays out of messages', () => {
    const key = `0x${'5ec4e7'.repeat(10)}5ec4`
    const hex = key.slice(2)
    const feePayer = (privateKey: string) =>
      withTempo({
        tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'modes: ["pull"]', 'feePayer:', `  privateKey: ${privateKey}`],
      })
    const variants: Array<[string, string, Env?]> = [
      ['a key with a trailing space', feePayer(`"${key} "`)],
      ['a key with a digit too many', feePayer(`"${key}0"`)],
      ['a key with a digit too few', feePayer(`"${key.slice(0, -1)}"`)],
      ['a key without 0x', feePayer(`"${hex}"`)],
      ['a key with a non-hex digit', feePayer(`"${key.slice(0, -1)}g"`)],
      ['an unquoted key', feePayer(key)],
      ['a key in a list', feePayer(`["${key}"]`)],
      ['a key with bad ${ syntax', feePayer(`"${key}\${"`)],
      ['a key from the environment', feePayer('"${K}"'), { K: `${key}zz` }],
      ['a key beyond the curve order', feePayer(`"0x${'f'.repeat(64)}"`)],
      ['a key pasted as the recipient', withTempo({ tempo: [`recipient: "${key}"`] })],
      [
        'a key pasted as the fee token',
        withTempo({
          tempo: [`recipient: "${RECIPIENT_LOWER}"`, 'feePayer:', `  privateKey: "${FEE_KEY}"`, `  feeToken: "${key}"`],
        }),
      ],
      ['a key pasted as the rpcUrl', withTempo({ tempo: [`recipient: "${RECIPIENT_LOWER}"`, `rpcUrl: "${key}"`] })],
    ]

    it.each(variants)('%s', (_what, text, env) => {
      const found = errors(text, env ?? ENV)
      expect(found.length).toBeGreaterThan(0)
      for (const error of found) {
        expect(error).not.toContain(hex.slice(0, 16))
        expect(error).not.toContain('fffffffffffffff')
      }
    })
  })

  describe('Stripe deposit addresses on the tempo rail', () => {
    function deposit({
      recipient = '{ stripeDeposit: "reusable" }',
      tempo = [] as string[],
      stripe = ['secretKey: "sk_test_abc"', 'networkId: "net_1"'],
      extra = [] as string[],
    } = {}): string {
      return withTempo({ tempo: [`recipient: ${recipient}`, ...tempo], stripe: stripe.length > 0 && stripe, extra })
    }

    it('reads the reusable shape with its defaults, and the stripe keys the crypto calls use', () => {
      const { config } = ok(
        deposit({
          stripe: [
            'secretKey: "sk_test_abc"',
            'networkId: "net_1"',
            'account: "acct_123"',
            'cryptoApiVersion: "2026-05-27.preview"',
          ],
        }),
      )
      expect(config.methods.tempo?.recipient).toBeUndefined()
      expect(config.methods.tempo?.stripeDeposit).toEqual({
        shape: 'reusable',
        processingGraceMs: 300_000,
        recordRetryMs: 30_000,
      })
      expect(config.methods.stripe).toMatchObject({ account: 'acct_123', cryptoApiVersion: '2026-05-27.preview' })
      expect(config.depositIntentRateLimit).toEqual({ limit: 60, windowMs: 60_000 })
    })

    it('warns that reusable without a store keeps unsent Stripe records in memory only', () => {
      expect(ok(deposit()).warnings).toEqual([
        `${FILE}: methods.tempo.recipient.stripeDeposit: keeps the Stripe records of payments not yet sent in memory, so a restart loses them; set store.url`,
      ])
      expect(
        ok(deposit({ extra: ['store: { url: "redis://127.0.0.1:6379" }', `secretKey: "${SECRET}"`] })).warnings,
      ).toEqual([])
      expect(ok(deposit({ recipient: '{ stripeDeposit: "per-payment" }' })).warnings).toEqual([])
    })

    it('reads per-payment with its grace, a pinned token and a deposit-intent budget', () => {
      const { config } = ok(
        deposit({
          recipient: '{ stripeDeposit: "per-payment", processingGrace: "2m" }',
          tempo: ['currency: "0x20c0000000000000000000000000000000000001"'],
          extra: ['rateLimit: { depositIntents: { limit: 5, window: "10s" } }'],
        }),
      )
      expect(config.methods.tempo?.stripeDeposit).toEqual({
        shape: 'per-payment',
        currency: '0x20C0000000000000000000000000000000000001',
        processingGraceMs: 120_000,
        recordRetryMs: 30_000,
      })
      expect(config.depositIntentRateLimit).toEqual({ limit: 5, windowMs: 10_000 })
    })

    it.each([
      [
        'an unknown shape',
        deposit({ recipient: '{ stripeDeposit: "shared" }' }),
        `${FILE}: methods.tempo.recipient.stripeDeposit: "shared" is not a deposit shape (use "reusable" or "per-payment")`,
      ],
      [
        'a mapping without the shape',
        deposit({ recipient: '{ processingGrace: "1m" }' }),
        `${FILE}: methods.tempo.recipient.stripeDeposit: is required`,
      ],
      [
        'a grace on the reusable shape',
        deposit({ recipient: '{ stripeDeposit: "reusable", processingGrace: "1m" }' }),
        `${FILE}: methods.tempo.recipient.processingGrace: applies only to stripeDeposit: "per-payment"`,
      ],
      [
        'a record retry on per-payment',
        deposit({ recipient: '{ stripeDeposit: "per-payment", recordRetry: "1m" }' }),
        `${FILE}: methods.tempo.recipient.recordRetry: applies only to stripeDeposit: "reusable"`,
      ],
      [
        'no methods.stripe',
        deposit({ stripe: [] }),
        `${FILE}: methods.tempo.recipient.stripeDeposit: needs methods.stripe: its secretKey, apiBase and account are the Stripe account the deposits are paid into`,
      ],
      [
        'a GA crypto API version',
        deposit({
          stripe: ['secretKey: "sk_test_abc"', 'networkId: "net_1"', 'cryptoApiVersion: "2026-10-28.endive"'],
        }),
        `${FILE}: methods.stripe.cryptoApiVersion: "2026-10-28.endive" is not a preview version (crypto deposits need one, e.g. "2026-07-29.preview")`,
      ],
      [
        'a bad connected account',
        deposit({ stripe: ['secretKey: "sk_test_abc"', 'networkId: "net_1"', 'account: "cus_1"'] }),
        `${FILE}: methods.stripe.account: must be a connected account id (acct_...)`,
      ],
      [
        'a zero deposit-intent budget',
        deposit({ extra: ['rateLimit: { depositIntents: { limit: 0 } }'] }),
        `${FILE}: rateLimit.depositIntents.limit: must be a positive integer number of 402s that create a Stripe deposit PaymentIntent per window (got 0)`,
      ],
    ])('rejects %s', (_name, text, message) => {
      expect(errors(text)).toEqual([message])
    })

    it('names a typo in the recipient mapping, and the shape it then misses', () => {
      expect(errors(deposit({ recipient: '{ stripeDepot: "reusable" }' }))).toEqual([
        `${FILE}: methods.tempo.recipient.stripeDepot: unknown key (did you mean "stripeDeposit"?)`,
        `${FILE}: methods.tempo.recipient.stripeDeposit: is required`,
      ])
    })
  })
})

describe('parseConfig: route splits', () => {
  const A = '0xA1B2C3d4e5F6a1B2c3d4e5F6a1b2c3d4e5F6a1b2'
  const B = '0xC4D5e6F7A8B9c4D5E6f7a8B9c4d5e6F7a8b9C4D5'
  const MEMO = `0x${'0'.repeat(56)}deadbeef`
  /** a route of `price` with these split lines (each a "recipient, amount[, memo]" YAML flow mapping) */
  const route = (price: string, ...splits: string[]) =>
    [`    price: "${price}"`, '    splits:', ...splits.map((split) => `      - ${split}`)].join('\n')
  const split = (recipient: string, amount: string, more = '') =>
    `{ recipient: "${recipient}", amount: "${amount}"${more} }`

  it('stores splits with checksum recipients, exact amounts and lower-case memos', () => {
    const { config } = ok(
      minimal({
        route: route(
          '1.00',
          split(A.toUpperCase().replace('0X', '0x'), '0.05'),
          split(B.toLowerCase(), '0.01', `, memo: "${MEMO.toUpperCase().replace('0X', '0x')}"`),
        ),
      }),
    )
    expect(config.routes[0]!.splits).toEqual([
      { recipient: A, amount: { text: '0.05', units: 5n, scale: 2 } },
      { recipient: B, amount: { text: '0.01', units: 1n, scale: 2 }, memo: MEMO },
    ])
  })

  it('leaves splits out when there are none', () => {
    expect('splits' in ok(minimal()).config.routes[0]!).toBe(false)
  })

  it('allows the same recipient twice and ten splits', () => {
    const { config } = ok(minimal({ route: route('1', ...Array.from({ length: 10 }, () => split(A, '0.09'))) }))
    expect(config.routes[0]!.splits).toHaveLength(10)
  })

  it('compares the sum with the price exactly, across scales', () => {
    expect(
      ok(minimal({ route: route('0.1', split(A, '0.05'), split(B, '0.049999')) })).config.routes[0]!.splits,
    ).toHaveLength(2)
    expect(errors(minimal({ route: route('0.1', split(A, '0.05'), split(B, '0.05')) }))).toEqual([
      `${FILE}: routes[0].splits: the splits add up to 0.10, which is not less than the price 0.1 (the route's recipient must keep a non-zero remainder)`,
    ])
    expect(errors(minimal({ route: route('0.05', split(A, '0.04'), split(B, '0.010001')) }))).toEqual([
      `${FILE}: routes[0].splits: the splits add up to 0.050001, which is not less than the price 0.05 (the route's recipient must keep a non-zero remainder)`,
    ])
  })

  it('allows price "0" routes, but not splits on them', () => {
    expect(ok(minimal({ route: '    price: "0"' })).config.routes[0]!.price).toMatchObject({
      kind: 'charge',
      amount: { units: 0n },
    })
    expect(errors(minimal({ route: route('0', split(A, '0.01')) }))).toEqual([
      `${FILE}: routes[0].splits: the splits add up to 0.01, which is not less than the price 0 (the route's recipient must keep a non-zero remainder)`,
    ])
  })

  const cases: Array<[string, string, string]> = [
    [
      'splits on a free route',
      minimal({ route: route('free', split(A, '0.01')) }),
      `${FILE}: routes[0].splits: not allowed on a free route`,
    ],
    [
      'eleven splits',
      minimal({ route: route('1', ...Array.from({ length: 11 }, () => split(A, '0.01'))) }),
      `${FILE}: routes[0].splits: has 11 entries; at most 10 are allowed`,
    ],
    [
      'empty splits',
      minimal({ route: '    price: "1"\n    splits: []' }),
      `${FILE}: routes[0].splits: must list at least one split (leave it out for none)`,
    ],
    [
      'splits that is a mapping',
      minimal({ route: '    price: "1"\n    splits:\n      a: 1' }),
      `${FILE}: routes[0].splits: must be a list of splits (got a mapping)`,
    ],
    [
      'a split that is a string',
      minimal({ route: route('1', `"${A}"`) }),
      `${FILE}: routes[0].splits[0]: must be a mapping (got a string)`,
    ],
    [
      'a split without recipient',
      minimal({ route: route('1', '{ amount: "0.01" }') }),
      `${FILE}: routes[0].splits[0].recipient: is required`,
    ],
    [
      'a split without amount',
      minimal({ route: route('1', `{ recipient: "${A}" }`) }),
      `${FILE}: routes[0].splits[0].amount: is required`,
    ],
    [
      'an empty split recipient',
      minimal({ route: route('1', split('', '0.01')) }),
      `${FILE}: routes[0].splits[0].recipient: is empty`,
    ],
    [
      'a zero split recipient',
      minimal({ route: route('1', split(`0x${'0'.repeat(40)}`, '0.01')) }),
      `${FILE}: routes[0].splits[0].recipient: is the zero address, which would burn the payment`,
    ],
    [
      'a split recipient with a bad checksum',
      minimal({ route: route('1', split('0xa1B2C3d4e5F6a1B2c3d4e5F6a1b2c3d4e5F6a1b2', '0.01')) }),
      `${FILE}: routes[0].splits[0].recipient: "0xa1B2C3d4e5F6a1B2c3d4e5F6a1b2c3d4e5F6a1b2" fails its EIP-55 checksum (write it in lower case to skip the check)`,
    ],
    [
      'a zero split amount',
      minimal({ route: route('1', split(A, '0.00')) }),
      `${FILE}: routes[0].splits[0].amount: must be greater than zero`,
    ],
    [
      'a negative split amount',
      minimal({ route: route('1', split(A, '-0.01')) }),
      `${FILE}: routes[0].splits[0].amount: "-0.01" is not a decimal amount`,
    ],
    [
      'a YAML number split amount',
      minimal({ route: route('1', `{ recipient: "${A}", amount: 0.01 }`) }),
      `${FILE}: routes[0].splits[0].amount: must be a quoted decimal string like "0.01" (YAML numbers are floats)`,
    ],
    [
      'a split amount finer than the token',
      minimal({ route: route('1', split(A, '0.0000001')) }),
      `${FILE}: routes[0].splits[0].amount: "0.0000001" has more than 6 fraction digits (TIP-20 tokens have 6 decimals)`,
    ],
    [
      'a short memo',
      minimal({ route: route('1', split(A, '0.01', ', memo: "0xdeadbeef"')) }),
      `${FILE}: routes[0].splits[0].memo: must be a bytes32, "0x" followed by 64 hex digits (got 10 characters)`,
    ],
    [
      'a typo in a split key',
      minimal({ route: route('1', split(A, '0.01', ', mem: "x"')) }),
      `${FILE}: routes[0].splits[0].mem: unknown key (did you mean "memo"?)`,
    ],
    [
      'splits adding up to the price',
      minimal({ route: route('0.05', split(A, '0.04'), split(B, '0.01')) }),
      `${FILE}: routes[0].splits: the splits add up to 0.05, which is not less than the price 0.05 (the route's recipient must keep a non-zero remainder)`,
    ],
    [
      'splits above the price',
      minimal({ route: route('0.05', split(A, '1')) }),
      `${FILE}: routes[0].splits: the splits add up to 1, which is not less than the price 0.05 (the route's recipient must keep a non-zero remainder)`,
    ],
  ]

  it.each(cases)('reports %s', (_what, text, expected) => {
    expect(errors(text)).toContain(expected)
  })

  it('reports only the expected error for each case', () => {
    for (const [what, text, expected] of cases) expect(errors(text), what).toEqual([expected])
  })

  it('reports every bad split at once', () => {
    expect(
      errors(minimal({ route: route('1', split('0x1', '0.01'), split(A, 'x'), split(B, '0.01', ', memo: 5')) })),
    ).toEqual([
      `${FILE}: routes[0].splits[0].recipient: must be an address, "0x" followed by 40 hex digits (got 3 characters)`,
      `${FILE}: routes[0].splits[1].amount: "x" is not a decimal amount`,
      `${FILE}: routes[0].splits[2].memo: must be a quoted string like "0x…" (YAML reads an unquoted 0x… as a number)`,
    ])
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
    expect(result).toEqual({
      ok: false,
      errors: ['g.yaml: realm: is empty', 'g.yaml: upstream: is required', 'g.yaml: routes: is required'],
    })
  })

  it('reports an unreadable file as one error', async () => {
    const result = await loadConfig('/nonexistent/dir/gateway.config.yaml', { env: {} })
    expect(result).toEqual({ ok: false, errors: ['/nonexistent/dir/gateway.config.yaml: cannot read: no such file'] })
  })
})

describe('parseConfig: operations', () => {
  const base = (extra: string) =>
    `realm: api.example.com\nupstream: { url: "http://127.0.0.1:3000" }\n${extra}\nroutes:\n  - match: "GET /v1/models"\n    price: free\n`
  const load = (text: string) => parseConfig(text, FILE, {}, FILE)

  it('applies the operational defaults', () => {
    const loaded = load(base(''))
    expect(loaded.ok && loaded.config).toMatchObject({
      trustedProxies: [],
      discovery: { openapiPath: '/openapi.json', llmsPath: '/llms.txt' },
      shutdown: { graceMs: 5_000, timeoutMs: 30_000 },
      watch: true,
      workers: 1,
    })
    expect(loaded.ok && loaded.config.cors).toBeUndefined()
    expect(loaded.ok && loaded.config.challengeRateLimit).toBeUndefined()
    expect(loaded.ok && loaded.config.routes[0]!.mode).toBe('enforce')
  })

  it('reads every operational key', () => {
    const loaded = load(
      base(
        'mode: shadow\ntrustedProxies: ["10.0.0.0/8", "::1"]\ncors: { origins: ["https://app.example.com", "*"], maxAge: "1m" }\n' +
          'rateLimit: { challenges: { limit: 20, window: "10s" } }\ndiscovery: { openapi: "/.well-known/openapi.json", llms: false }\nshutdown: { grace: "0s", timeout: "2s" }\nwatch: false',
      ),
    )
    expect(loaded.ok && loaded.config).toMatchObject({
      trustedProxies: ['10.0.0.0/8', '::1'],
      cors: { origins: ['https://app.example.com', '*'], maxAgeSeconds: 60 },
      challengeRateLimit: { limit: 20, windowMs: 10_000 },
      discovery: { openapiPath: '/.well-known/openapi.json' },
      shutdown: { graceMs: 0, timeoutMs: 2_000 },
      watch: false,
    })
    expect(loaded.ok && loaded.config.routes[0]!.mode).toBe('shadow')
  })

  it('names the key of every bad operational value', () => {
    const loaded = load(
      base(
        'mode: audit\ntrustedProxies: ["10.0.0.0/33", "proxy.local"]\ncors: { origins: ["https://app.example.com/"] }\n' +
          'rateLimit: { challenges: { limit: 0 } }\ndiscovery: { openapi: "openapi.json" }\nwatch: "yes"',
      ),
    )
    expect(loaded.ok).toBe(false)
    expect(!loaded.ok && loaded.errors).toEqual([
      `${FILE}: mode: "audit" is not a mode (use "enforce" or "shadow")`,
      `${FILE}: trustedProxies[0]: "10.0.0.0/33" is not an IP address or CIDR block like "10.0.0.0/8" or "fd00::/8"`,
      `${FILE}: trustedProxies[1]: "proxy.local" is not an IP address or CIDR block like "10.0.0.0/8" or "fd00::/8"`,
      `${FILE}: cors.origins[0]: "https://app.example.com/" is not an origin (scheme://host[:port], no path or trailing slash)`,
      `${FILE}: rateLimit.challenges.limit: must be a positive integer number of challenges per window (got 0)`,
      `${FILE}: discovery.openapi: must be a path like "/openapi.json" (outside /__gateway/), or false to turn it off`,
      `${FILE}: watch: must be true, false or { poll: "2s" } (got a string)`,
    ])
  })

  it('reads workers, which needs the Redis store beyond one', () => {
    const loaded = load(base(`workers: 4\nsecretKey: "${SECRET}"\nstore: { url: "redis://127.0.0.1:6379" }`))
    expect(loaded.ok && loaded.config.workers).toBe(4)
    expect(load(base('workers: 2')).ok).toBe(false)
    expect(!load(base('workers: 2')).ok && (load(base('workers: 2')) as { errors: string[] }).errors).toEqual([
      `${FILE}: workers: 2 workers need store.url (Redis): the in-memory store keeps single use inside one process, so a credential could be spent once per worker`,
    ])
    expect(load(base('workers: 1')).ok).toBe(true)
  })

  it('names a bad workers value', () => {
    for (const [value, shown] of [
      ['0', '0'],
      ['1.5', '1.5'],
      ['65', '65'],
      ['"2"', 'a string'],
    ] as const) {
      const loaded = load(base(`workers: ${value}\nsecretKey: "${SECRET}"\nstore: { url: "redis://127.0.0.1:6379" }`))
      expect(!loaded.ok && loaded.errors).toEqual([
        `${FILE}: workers: must be a whole number from 1 to 64 (got ${shown})`,
      ])
    }
  })

  it("applies the limits defaults: Node's timeouts as before, 30 s for a body, 64 MiB buffered, 10,000 connections", () => {
    const loaded = load(base(''))
    expect(loaded.ok && loaded.config.limits).toEqual({
      bodyTimeoutMs: 30_000,
      bufferedBytes: 67_108_864,
      maxConnections: 10_000,
      headersTimeoutMs: 60_000,
      keepAliveTimeoutMs: 65_000,
      requestTimeoutMs: 300_000,
    })
  })

  it('reads every limits key', () => {
    const loaded = load(
      base(
        'limits: { bodyTimeout: "300ms", bufferedBytes: 2097152, maxConnections: 2, headersTimeout: "5s", keepAliveTimeout: "10s", requestTimeout: "1m" }',
      ),
    )
    expect(loaded.ok && loaded.config.limits).toEqual({
      bodyTimeoutMs: 300,
      bufferedBytes: 2_097_152,
      maxConnections: 2,
      headersTimeoutMs: 5_000,
      keepAliveTimeoutMs: 10_000,
      requestTimeoutMs: 60_000,
    })
  })

  it('names every bad limits value and unknown key', () => {
    const loaded = load(
      base(
        'limits: { bodyTimout: "1s", bufferedBytes: "64MiB", maxConnections: 0, headersTimeout: 60, keepAliveTimeout: "10ms" }',
      ),
    )
    expect(!loaded.ok && loaded.errors).toEqual([
      `${FILE}: limits.bodyTimout: unknown key (did you mean "bodyTimeout"?)`,
      `${FILE}: limits.bufferedBytes: must be a positive integer number of bytes (got a string)`,
      `${FILE}: limits.maxConnections: must be a positive integer number of connections (got 0)`,
      `${FILE}: limits.headersTimeout: must be a duration string like "60s" (got a number)`,
      `${FILE}: limits.keepAliveTimeout: must be at least 100ms`,
    ])
  })

  it('refuses timeouts that Node cannot honour together', () => {
    const loaded = load(base('limits: { headersTimeout: "2m", bodyTimeout: "90s", requestTimeout: "1m" }'))
    expect(!loaded.ok && loaded.errors).toEqual([
      `${FILE}: limits.headersTimeout: (120000 ms) must not exceed limits.requestTimeout (60000 ms): Node requires headersTimeout ≤ requestTimeout`,
      `${FILE}: limits.bodyTimeout: (90000 ms) must not exceed limits.requestTimeout (60000 ms), which would cut the body first`,
    ])
  })

  it('warns about a priced route whose maxBodyBytes the buffer budget can never hold', () => {
    const text = `realm: r\nupstream: { url: "http://127.0.0.1:3000" }\nlimits: { bufferedBytes: 1000 }\nmethods: { stripe: { secretKey: sk_test_abc, networkId: n } }\nroutes:\n  - { match: "POST /a", price: "0.50", maxBodyBytes: 2000 }\n  - { match: "POST /b", price: free, maxBodyBytes: 2000 }\n`
    const loaded = load(text)
    expect(loaded.ok && loaded.warnings).toEqual([
      `${FILE}: routes[0].maxBodyBytes: maxBodyBytes 2000 is above limits.bufferedBytes 1000: a body that large always gets 503`,
    ])
  })

  it('reads watch: true, false, or a poll interval', () => {
    expect(ok(minimal({ extra: 'watch: { poll: "2s" }' })).config).toMatchObject({ watch: true, watchPollMs: 2000 })
    expect('watchPollMs' in ok(minimal({ extra: 'watch: false' })).config).toBe(false)
    expect(errors(minimal({ extra: 'watch: { poll: "10ms" }' }))).toEqual([
      `${FILE}: watch.poll: must be at least 100ms`,
    ])
    expect(errors(minimal({ extra: 'watch: { pol: "2s" }' }))).toEqual([
      `${FILE}: watch.pol: unknown key (did you mean "poll"?)`,
    ])
  })

  it('a route may override the global mode', () => {
    const text = `realm: r\nupstream: { url: "http://127.0.0.1:3000" }\nmode: shadow\nroutes:\n  - { match: "GET /a", price: free, mode: enforce }\n  - { match: "GET /b", price: free }\n`
    const loaded = load(text)
    expect(loaded.ok && loaded.config.routes.map((r) => r.mode)).toEqual(['enforce', 'shadow'])
  })
})

describe('parseConfig: route matching and shadowing', () => {
  const withRoutes = (routes: string, extra = '') =>
    `realm: r\nupstream: { url: "http://127.0.0.1:3000" }\nmethods: { stripe: { secretKey: "sk_test_abc", networkId: "net_1" } }\n${extra}routes:\n${routes}`

  it('matches case-insensitively by default; routing.caseSensitive and routes[].caseSensitive override it', () => {
    const routes =
      '  - { match: "GET /a", price: "1" }\n  - { match: "GET /b", price: "1", caseSensitive: true }\n  - { match: "GET /c", price: "1", caseSensitive: false }\n'
    expect(ok(withRoutes(routes)).config.routes.map((r) => r.caseSensitive)).toEqual([undefined, true, undefined])
    expect(
      ok(withRoutes(routes, 'routing: { caseSensitive: true }\n')).config.routes.map((r) => r.caseSensitive),
    ).toEqual([true, true, undefined])
  })

  it.each([
    [
      'a free wildcard before a priced route',
      '  - { match: "GET /v1/*", price: free }\n  - { match: "GET /v1/joke", price: "2.00" }\n',
      `${FILE}: routes[1].match: "GET /v1/joke" (price 2.00) is shadowed by routes[0].match "GET /v1/*" (price free), which comes first and takes requests such as GET /v1/joke; list the more specific route first, or set routes[0].shadows: ok if that is intended`,
    ],
    [
      'a cheaper any-method route before a dearer GET',
      '  - { match: "* /v1/joke", price: "0.50" }\n  - { match: "GET /v1/joke", price: "2.00" }\n',
      `${FILE}: routes[1].match: "GET /v1/joke" (price 2.00) is shadowed by routes[0].match "* /v1/joke" (price 0.50), which comes first and takes requests such as GET /v1/joke; list the more specific route first, or set routes[0].shadows: ok if that is intended`,
    ],
    [
      'a shadow-mode route, which forwards unpaid',
      '  - { match: "GET /v1/:id", price: "5", mode: shadow }\n  - { match: "HEAD /v1/joke", price: "2.00" }\n',
      `${FILE}: routes[1].match: "HEAD /v1/joke" (price 2.00) is shadowed by routes[0].match "GET /v1/:id" (price 5, but mode: shadow forwards it unpaid), which comes first and takes requests such as HEAD /v1/joke; list the more specific route first, or set routes[0].shadows: ok if that is intended`,
    ],
    [
      'a route spelled in another case',
      '  - { match: "GET /V1/Joke", price: free }\n  - { match: "GET /v1/joke", price: "1" }\n',
      `${FILE}: routes[1].match: "GET /v1/joke" (price 1) is shadowed by routes[0].match "GET /V1/Joke" (price free), which comes first and takes requests such as GET /v1/joke; list the more specific route first, or set routes[0].shadows: ok if that is intended`,
    ],
    [
      'a shadows value other than ok',
      '  - { match: "GET /a", price: free, shadows: true }\n',
      `${FILE}: routes[0].shadows: must be "ok" (got a boolean)`,
    ],
    [
      'a caseSensitive that is not a boolean',
      '  - { match: "GET /a", price: free, caseSensitive: "yes" }\n',
      `${FILE}: routes[0].caseSensitive: must be true or false (got a string)`,
    ],
  ])('refuses %s', (_name, routes, expected) => {
    expect(errors(withRoutes(routes))).toEqual([expected])
  })

  it('names an unknown routing key', () => {
    expect(errors(withRoutes('  - { match: "GET /a", price: free }\n', 'routing: { caseSensitiv: true }\n'))).toEqual([
      `${FILE}: routing.caseSensitiv: unknown key (did you mean "caseSensitive"?)`,
    ])
  })

  it.each([
    [
      'the opt-out on the earlier route',
      '  - { match: "GET /v1/*", price: free, shadows: ok }\n  - { match: "GET /v1/joke", price: "2.00" }\n',
    ],
    [
      'an earlier route that costs as much',
      '  - { match: "* /v1/*", price: "2" }\n  - { match: "GET /v1/joke", price: "2.00" }\n',
    ],
    ['a free catch-all last', '  - { match: "GET /v1/joke", price: "2.00" }\n  - { match: "* /*", price: free }\n'],
    [
      'case-sensitive routes in different cases',
      '  - { match: "GET /V1/joke", price: free, caseSensitive: true }\n  - { match: "GET /v1/joke", price: "1", caseSensitive: true }\n',
    ],
    [
      'a free route before a shadow-mode one',
      '  - { match: "GET /v1/*", price: free }\n  - { match: "GET /v1/joke", price: "2", mode: shadow }\n',
    ],
  ])('accepts %s', (_name, routes) => {
    expect(ok(withRoutes(routes)).config.routes).toHaveLength(2)
  })
})
