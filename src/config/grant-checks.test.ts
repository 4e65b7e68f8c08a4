import { describe, expect, it } from 'vitest'
import { parseConfig } from './load.js'

const FILE = 'gateway.config.yaml'
const HEAD = [
  'realm: "api.example.com"',
  'upstream: { url: "http://127.0.0.1:3000" }',
  'methods: { stripe: { secretKey: "sk_test_abc", networkId: "net_1" } }',
  'routes:',
]
const ORDERS =
  '  - { match: "POST /agent/orders", price: "1.00", grant: { name: order, header: X-Api-Key, idFrom: "response-body:/id" } }'
const STATUS = '  - { match: "GET /agent/orders/:id", access: { grant: order, param: id } }'

const load = (...routes: string[]) => parseConfig([...HEAD, ...routes].join('\n'), FILE, {})
const errors = (...routes: string[]) => {
  const loaded = load(...routes)
  if (loaded.ok) throw new Error('expected errors')
  return loaded.errors
}

describe('routes[].grant and routes[].access', () => {
  it('loads the §5 pair: ttl 7d by default, the access route free without a price', () => {
    const loaded = load(ORDERS, STATUS)
    if (!loaded.ok) throw new Error(loaded.errors.join('\n'))
    const [orders, status] = loaded.config.routes
    expect(orders!.grant).toEqual({
      name: 'order',
      header: 'X-Api-Key',
      idFrom: { from: 'response-body', pointer: '/id' },
      ttlMs: 604_800_000,
    })
    expect(status!.price).toEqual({ kind: 'free' })
    expect(status!.access).toEqual({ grant: 'order', param: 'id' })
  })

  it('refuses an access to a grant no route defines, naming the ones that exist', () => {
    expect(errors(ORDERS, '  - { match: "GET /x/:id", access: { grant: ordr, param: id } }')).toEqual([
      `${FILE}: routes[1].access.grant: "ordr" is not a grant of any priced route (defined: "order")`,
    ])
    expect(errors('  - { match: "GET /x/:id", access: { grant: order, param: id } }')).toEqual([
      `${FILE}: routes[0].access.grant: "order" is not a grant: no priced route defines one (routes[].grant)`,
    ])
  })

  it('refuses a param that is not in the match', () => {
    expect(errors(ORDERS, '  - { match: "GET /agent/orders/:id", access: { grant: order, param: order_id } }')).toEqual(
      [`${FILE}: routes[1].access.param: "order_id" is not a parameter of the match (it has :id)`],
    )
    expect(errors(ORDERS, '  - { match: "GET /agent/orders", access: { grant: order, param: id } }')).toEqual([
      `${FILE}: routes[1].access.param: "id" is not a parameter of the match: it has none (write the id as ":id" in its path)`,
    ])
  })

  it('refuses a price on an access route, a grant on a free route, and a grant defined twice', () => {
    expect(
      errors(ORDERS, '  - { match: "GET /agent/orders/:id", price: "0.10", access: { grant: order, param: id } }'),
    ).toEqual([`${FILE}: routes[1].price: must be "free" or left out on a route with access (the key is the access)`])
    expect(
      errors('  - { match: "POST /o", price: free, grant: { name: o, header: X-Key, idFrom: "header:Location" } }'),
    ).toEqual([`${FILE}: routes[0].grant: not allowed on a free route (a key is granted for a payment)`])
    expect(errors(ORDERS, ORDERS.replace('POST /agent/orders', 'POST /other'))).toEqual([
      `${FILE}: routes[1].grant.name: grant "order" is already defined by routes[0]`,
    ])
  })

  it('checks each grant key: idFrom, header, ttl and unknown keys', () => {
    expect(
      errors(
        '  - { match: "POST /o", price: "1.00", grant: { name: o, header: "Payment-Receipt", idFrom: "body:/id", ttl: "soon", scope: x } }',
      ),
    ).toEqual([
      `${FILE}: routes[0].grant.scope: unknown key (known keys: name, header, idFrom, ttl)`,
      `${FILE}: routes[0].grant.header: "Payment-Receipt" is set by the gateway itself and cannot carry a key`,
      `${FILE}: routes[0].grant.idFrom: must be "response-body:<JSON Pointer>" (e.g. "response-body:/id") or "header:<Name>" (e.g. "header:Location")`,
      `${FILE}: routes[0].grant.ttl: "soon" is not a duration (use e.g. "500ms", "30s", "5m", "1h" or "1m30s")`,
    ])
    expect(errors('  - { match: "POST /o", price: "1.00", grant: { header: X-Key } }')).toEqual([
      `${FILE}: routes[0].grant.name: is required`,
      `${FILE}: routes[0].grant.idFrom: is required`,
    ])
  })
})
