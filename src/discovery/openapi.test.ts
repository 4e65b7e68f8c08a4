import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config/load.js'
import type { GatewayConfig } from '../config/types.js'
import { resolveOffers } from '../core/price-table.js'
import { createMethods } from '../methods/index.js'
import { buildLlmsTxt } from './llms-txt.js'
import { buildOpenApi } from './openapi.js'

const STRIPE_KEY = 'sk_test_discovery_secret_123'
const FEE_PAYER_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'

function load(routes: string): GatewayConfig {
  const text = `realm: api.example.com
secretKey: "0123456789abcdef0123456789abcdef-discovery"
upstream: { url: "http://127.0.0.1:3000" }
methods:
  stripe: { secretKey: "${STRIPE_KEY}", networkId: "profile_x" }
  tempo:
    rpcUrl: "http://127.0.0.1:9/rpc-key-in-path"
    recipient: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
    feePayer: { privateKey: "${FEE_PAYER_KEY}" }
routes:
${routes}`
  const loaded = parseConfig(text, 'gateway.config.yaml', {})
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'))
  return loaded.config
}

function documents(config: GatewayConfig) {
  const { table } = resolveOffers(config, createMethods(config))
  return {
    openapi: buildOpenApi(config, table, { llmsUrl: '/llms.txt' }) as Record<string, any>,
    llms: buildLlmsTxt(config, table, { openapiPath: '/openapi.json' }),
  }
}

const ROUTES = `  - { match: "GET /v1/models", price: free }
  - { match: "POST /v1/chat/completions", price: "0.50", description: "Chat completion" }
  - { match: "GET /v1/reports/:id", price: "1.25", methods: [stripe] }
  - { match: "GET /v1/whoami", price: "0" }
  - { match: "GET /v1/trial", price: "0.75", mode: shadow }
  - { match: "* /public/*", price: free }
`

describe('the OpenAPI discovery document (draft-payment-discovery)', () => {
  const { openapi } = documents(load(ROUTES))

  it('has the required top-level fields and links llms.txt', () => {
    expect(openapi).toMatchObject({
      openapi: '3.1.0',
      info: { title: 'api.example.com', version: '1' },
      'x-service-info': { docs: { llms: '/llms.txt' } },
    })
  })

  it('gives each priced operation its offers, with the amounts its challenges carry, and a 402', () => {
    const chat = openapi.paths['/v1/chat/completions'].post
    expect(chat['x-payment-info']).toEqual({
      offers: [
        { intent: 'charge', method: 'stripe', amount: '50', currency: 'usd', description: 'Chat completion' },
        {
          intent: 'charge',
          method: 'tempo',
          amount: '500000',
          currency: '0x20C0000000000000000000000000000000000000',
          description: 'Chat completion',
        },
      ],
    })
    expect(chat.responses['402']).toBeDefined()
    expect(
      openapi.paths['/v1/reports/{id}'].get['x-payment-info'].offers.map((o: { method: string }) => o.method),
    ).toEqual(['stripe'])
    expect(openapi.paths['/v1/reports/{id}'].get.parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
    ])
    expect(openapi.paths['/v1/whoami'].get['x-payment-info'].offers).toEqual([
      { intent: 'charge', method: 'tempo', amount: '0', currency: '0x20C0000000000000000000000000000000000000' },
    ])
  })

  it('describes free routes, shadow routes and wildcards without payment info', () => {
    expect(openapi.paths['/v1/models'].get['x-payment-info']).toBeUndefined()
    expect(openapi.paths['/v1/models'].get.responses['402']).toBeUndefined()
    expect(openapi.paths['/v1/trial'].get['x-payment-info']).toBeUndefined()
    const publicPaths = openapi.paths['/public/{path}']
    expect(Object.keys(publicPaths)).toEqual(['get', 'post', 'put', 'patch', 'delete'])
    expect(publicPaths.get.description).toBe('Covers every path under /public/.')
  })

  it('follows a price edit', () => {
    const { openapi: edited } = documents(load(ROUTES.replace('"0.50"', '"0.70"')))
    expect(edited.paths['/v1/chat/completions'].post['x-payment-info'].offers[0].amount).toBe('70')
  })
})

describe('llms.txt', () => {
  const { llms } = documents(load(ROUTES))

  it('tells an agent how to pay and what each route costs', () => {
    expect(llms.startsWith('# api.example.com\n')).toBe(true)
    expect(llms).toContain('Authorization: Payment <credential>')
    expect(llms).toContain('[OpenAPI](/openapi.json)')
    expect(llms).toContain(
      '- `POST /v1/chat/completions`: Chat completion: 0.50 usd (stripe); 0.500000 USD in token 0x20C0000000000000000000000000000000000000 on Tempo chain 42431 (tempo)',
    )
    expect(llms).toContain('- `GET /v1/models`: free')
    expect(llms).toContain('- `GET /v1/trial`: free')
    expect(llms).toContain('- `GET /v1/whoami`: a signed proof, no payment on Tempo chain 42431 (tempo)')
  })
})

it('neither document carries a secret of the config', () => {
  const { openapi, llms } = documents(load(ROUTES))
  const text = JSON.stringify(openapi) + llms
  for (const secret of [
    STRIPE_KEY,
    FEE_PAYER_KEY,
    FEE_PAYER_KEY.slice(2),
    '0123456789abcdef0123456789abcdef-discovery',
    'rpc-key-in-path',
    '127.0.0.1:3000',
  ])
    expect(text).not.toContain(secret)
})

describe('follow-up keys in the discovery documents', () => {
  const { openapi, llms } = documents(
    load(`  - match: "POST /agent/orders"
    price: "1.00"
    grant: { name: order, header: X-Api-Key, idFrom: "response-body:/id", ttl: 7d }
  - match: "GET /agent/orders/:id"
    access: { grant: order, param: id }
`),
  )

  it('OpenAPI: the key as an API key scheme, required on the access route with its 401 and 403', () => {
    expect(openapi.components.securitySchemes).toEqual({
      order: {
        type: 'apiKey',
        in: 'header',
        name: 'X-Api-Key',
        description: 'Returned in X-Api-Key by a paid POST /agent/orders; good for the id it names, for 604800 s.',
      },
    })
    const status = openapi.paths['/agent/orders/{id}'].get
    expect(status.security).toEqual([{ order: [] }])
    expect(Object.keys(status.responses)).toEqual(['200', '401', '403'])
    expect(openapi.paths['/agent/orders'].post.security).toBeUndefined()
  })

  it('llms.txt: where the key comes from, and where it goes', () => {
    expect(llms).toContain('- `POST /agent/orders`: ')
    expect(llms).toContain('; a 2xx answer carries a key in `X-Api-Key`')
    expect(llms).toContain(
      '- `GET /agent/orders/:id`: free with the key a paid `POST /agent/orders` returns in `X-Api-Key` (send it there, or as `Authorization: Bearer`), for the `id` it names',
    )
  })
})
