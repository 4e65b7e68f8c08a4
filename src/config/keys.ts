import { LIMIT_KEYS } from './limits.js'

/**
 * Every key a config file may hold, block by block. The loader refuses any other key (with a
 * did-you-mean), and `configKeyPaths()` is what a test holds docs/configuration.md against.
 */
export const TOP_KEYS = [
  'listen',
  'realm',
  'secretKey',
  'previousSecretKeys',
  'challengeTtl',
  'currency',
  'upstream',
  'store',
  'log',
  'methods',
  'routes',
  'mode',
  'trustedProxies',
  'cors',
  'rateLimit',
  'discovery',
  'shutdown',
  'limits',
  'watch',
  'workers',
  'routing',
  'admin',
]
export const ROUTING_KEYS = ['caseSensitive']
export const CORS_KEYS = ['origins', 'maxAge', 'credentials']
export const ADMIN_KEYS = ['listen', 'token']
export const RATE_LIMIT_KEYS = ['challenges', 'depositIntents']
export const BUDGET_KEYS = ['limit', 'window']
export const DISCOVERY_KEYS = ['openapi', 'llms']
export const SHUTDOWN_KEYS = ['grace', 'timeout']
export const UPSTREAM_KEYS = ['url', 'timeout', 'stripRequestHeaders']
export const STORE_KEYS = ['url', 'keyPrefix']
export const LOG_KEYS = ['level']
export const STRIPE_KEYS = [
  'secretKey',
  'networkId',
  'paymentMethodTypes',
  'apiVersion',
  'apiBase',
  'timeout',
  'cryptoApiVersion',
  'account',
]
export const STRIPE_DEPOSIT_KEYS = ['stripeDeposit', 'processingGrace', 'recordRetry']
export const WATCH_KEYS = ['poll']
export const TEMPO_KEYS = ['rpcUrl', 'chainId', 'currency', 'recipient', 'modes', 'feePayer', 'timeout', 'txClaimTtl']
export const FEE_PAYER_KEYS = ['privateKey', 'feeToken', 'maxGas', 'maxFeePerGas', 'maxFee', 'maxInFlight']
export const ROUTE_KEYS = [
  'match',
  'price',
  'description',
  'methods',
  'maxBodyBytes',
  'splits',
  'mode',
  'caseSensitive',
  'shadows',
]
export const SPLIT_KEYS = ['recipient', 'amount', 'memo']

/** A block's keys; a key that is a block too maps to its own tree. */
type KeyTree = { readonly [key: string]: KeyTree | null }

const leaves = (keys: readonly string[], nested: Record<string, KeyTree> = {}): KeyTree =>
  Object.fromEntries(keys.map((key) => [key, nested[key] ?? null]))

/** blocks whose value is a list of blocks: their keys read `routes[].match` */
const LISTS = new Set(['routes', 'routes[].splits'])
/** blocks that also take a plain value (`watch: false`, `recipient: "0x…"`) */
const SCALAR_TOO = new Set(['watch', 'methods.tempo.recipient'])

const TREE: KeyTree = leaves(TOP_KEYS, {
  upstream: leaves(UPSTREAM_KEYS),
  store: leaves(STORE_KEYS),
  log: leaves(LOG_KEYS),
  methods: {
    stripe: leaves(STRIPE_KEYS),
    tempo: leaves(TEMPO_KEYS, { recipient: leaves(STRIPE_DEPOSIT_KEYS), feePayer: leaves(FEE_PAYER_KEYS) }),
  },
  routes: leaves(ROUTE_KEYS, { splits: leaves(SPLIT_KEYS) }),
  cors: leaves(CORS_KEYS),
  rateLimit: leaves(RATE_LIMIT_KEYS, { challenges: leaves(BUDGET_KEYS), depositIntents: leaves(BUDGET_KEYS) }),
  discovery: leaves(DISCOVERY_KEYS),
  shutdown: leaves(SHUTDOWN_KEYS),
  limits: leaves(LIMIT_KEYS),
  watch: leaves(WATCH_KEYS),
  routing: leaves(ROUTING_KEYS),
  admin: leaves(ADMIN_KEYS),
})

/**
 * Every settable key as a dotted path, e.g. `methods.tempo.feePayer.maxGas` or `routes[].splits[].memo`.
 * A block that also takes a scalar value (`watch: false`, `recipient: "0x…"`) is listed itself too.
 */
export function configKeyPaths(): string[] {
  const paths: string[] = []
  const walk = (tree: KeyTree, prefix: string) => {
    for (const [key, sub] of Object.entries(tree)) {
      const path = prefix === '' ? key : `${prefix}.${key}`
      if (sub === null || SCALAR_TOO.has(path)) paths.push(path)
      if (sub !== null) walk(sub, LISTS.has(path) ? `${path}[]` : path)
    }
  }
  walk(TREE, '')
  return paths
}
