import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCheck } from '../../src/cli/check.js'
import { type Env, parseConfig } from '../../src/config/load.js'
import { buildLlmsTxt } from '../../src/discovery/llms-txt.js'
import { createMethods, methodPlugins } from '../../src/methods/index.js'
import { resolveOffers } from '../../src/core/price-table.js'
import { voucherPlugin } from '../support/methods/voucher/plugin.js'

const FILE = 'gateway.config.yaml'
const VOUCHER_SECRET = 'voucher-desk-shared-secret-0123456789'
const plugins = [...methodPlugins, voucherPlugin]

function config(voucher: string[], route = ['    price: "0.50"', '    methods: ["voucher"]']): string {
  return [
    'realm: "api.example.com"',
    'upstream:',
    '  url: "http://127.0.0.1:3000"',
    'methods:',
    '  voucher:',
    ...voucher.map((line) => `    ${line}`),
    'routes:',
    '  - match: "GET /x"',
    ...route,
  ].join('\n')
}

function errorsOf(text: string, env: Env = {}) {
  const result = parseConfig(text, FILE, env, FILE, { plugins })
  if (result.ok) throw new Error('expected errors')
  return result.errors
}

describe('a third payment method registered as a plugin', () => {
  it('is unknown without its plugin, and the message lists the methods that are', () => {
    const result = parseConfig(config([`secret: "${VOUCHER_SECRET}"`]), FILE, {}, FILE)
    expect(result.ok).toBe(false)
    expect(!result.ok && result.errors).toEqual([
      'gateway.config.yaml: methods.voucher: unknown payment method (known: stripe, tempo)',
      'gateway.config.yaml: routes[0].price: no payment method is configured',
      'gateway.config.yaml: routes[0].methods[0]: "voucher" is not configured under methods',
    ])
  })

  it('parses its section with its own schema, defaults included', () => {
    const result = parseConfig(config([`secret: "${VOUCHER_SECRET}"`]), FILE, {}, FILE, { plugins })
    if (!result.ok) throw new Error(result.errors.join('\n'))
    expect(Object.keys(result.config.methods)).toEqual(['voucher'])
    expect(result.config.methods.voucher).toEqual({ secret: VOUCHER_SECRET, issuer: 'voucher-desk', decimals: 2 })
    expect(result.config.routes[0]!.methods).toEqual(['voucher'])
  })

  it('reports every problem of its section at once, each at methods.voucher.<key>', () => {
    expect(errorsOf(config(['secret: "short-secret"', 'issuer: "Voucher Desk"', 'decimals: "2"']))).toEqual([
      'gateway.config.yaml: methods.voucher.secret: must be at least 32 characters (openssl rand -base64 32)',
      'gateway.config.yaml: methods.voucher.issuer: must be lower-case letters, digits and "-"',
      'gateway.config.yaml: methods.voucher.decimals: must be a number (got a string)',
    ])
  })

  it('never echoes the secret it refuses', () => {
    const errors = errorsOf(config(['secret: "hunter2-voucher-secret"']))
    expect(errors).toEqual([
      'gateway.config.yaml: methods.voucher.secret: must be at least 32 characters (openssl rand -base64 32)',
    ])
    expect(errors.join('\n')).not.toContain('hunter2')
  })

  it('suggests the key meant for a typo, and names a missing one', () => {
    expect(errorsOf(config(['secrt: "x"']))).toEqual([
      'gateway.config.yaml: methods.voucher.secrt: unknown key (did you mean "secret"?)',
      'gateway.config.yaml: methods.voucher.secret: is required',
    ])
    expect(errorsOf(config(['issuer: "desk"', 'colour: "red"']))).toEqual([
      'gateway.config.yaml: methods.voucher.colour: unknown key (known keys: secret, issuer, decimals)',
      'gateway.config.yaml: methods.voucher.secret: is required',
    ])
  })

  it('says which environment variable was not set', () => {
    expect(errorsOf(config(['secret: "${VOUCHER_SECRET}"']))).toEqual([
      'gateway.config.yaml: methods.voucher.secret: must be at least 32 characters (openssl rand -base64 32) (environment variable VOUCHER_SECRET is not set)',
    ])
  })

  it('joins the errors of the other sections in one report', () => {
    const text = config(['secret: "short"']).replace('realm: "api.example.com"', 'realm: ""')
    expect(errorsOf(text)).toEqual([
      'gateway.config.yaml: realm: is empty',
      'gateway.config.yaml: methods.voucher.secret: must be at least 32 characters (openssl rand -base64 32)',
    ])
  })

  it('quotes routes beside stripe, and its wording reaches /llms.txt', () => {
    const text = [
      'realm: "api.example.com"',
      'upstream:',
      '  url: "http://127.0.0.1:3000"',
      'methods:',
      '  stripe:',
      '    secretKey: "sk_test_abc"',
      '    networkId: "net_1"',
      '  voucher:',
      `    secret: "${VOUCHER_SECRET}"`,
      'routes:',
      '  - match: "GET /x"',
      '    price: "0.50"',
    ].join('\n')
    const result = parseConfig(text, FILE, {}, FILE, { plugins })
    if (!result.ok) throw new Error(result.errors.join('\n'))
    const { table, errors } = resolveOffers(result.config, createMethods(result.config, undefined, plugins))
    expect(errors).toEqual([])
    const route = result.config.routes[0]!
    expect(table.get(route)!.offers.map((offer) => [offer.method.name, offer.request])).toEqual([
      [
        'stripe',
        { amount: '50', currency: 'usd', methodDetails: { networkId: 'net_1', paymentMethodTypes: ['card'] } },
      ],
      ['voucher', { amount: '50', currency: 'usd', methodDetails: { issuer: 'voucher-desk', decimals: 2 } }],
    ])
    expect(buildLlmsTxt(result.config, table)).toContain(
      '- `GET /x`: 0.50 usd (stripe); a voucher worth 0.50 usd (voucher)',
    )
  })
})

describe('check with a third method', () => {
  const dirs: string[] = []
  afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))))

  it('prints its price in the route table in its own words', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mppgw-voucher-'))
    dirs.push(dir)
    const file = join(dir, 'gateway.config.yaml')
    await writeFile(file, config([`secret: "${VOUCHER_SECRET}"`]))
    let out = ''
    const code = await runCheck(file, { write: (text) => (out += text) }, plugins)
    expect(code).toBe(0)
    expect(out).toBe(
      ['#  match   price     methods', '0  GET /x  0.50 usd  voucher: 0.50 usd in vouchers', `${file}: ok`, ''].join(
        '\n',
      ),
    )
  })
})
