import { z } from 'zod'
import { methodPlugins } from '../methods/index.js'
import { adminKeys } from './admin.js'
import { unwrapSchema } from './issues.js'
import { LIMIT_KEYS } from './limits.js'
import { accessFields, grantFields, routeFields, splitSchema } from './route-schema.js'

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
  'recovery',
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
/** Only the top-level keys, for did-you-mean on the others; each block checks its own value. */
export const topKeysSchema = z.strictObject(Object.fromEntries(TOP_KEYS.map((key) => [key, z.unknown().optional()])))
export const ROUTING_KEYS = ['caseSensitive']
export const CORS_KEYS = ['origins', 'maxAge', 'credentials']
/** the keys of the blocks that have a schema of their own come from it */
export const ADMIN_KEYS = Object.keys(adminKeys.shape)
export const RATE_LIMIT_KEYS = ['challenges', 'depositIntents']
export const BUDGET_KEYS = ['limit', 'window']
export const DISCOVERY_KEYS = ['openapi', 'llms']
export const SHUTDOWN_KEYS = ['grace', 'timeout']
export const RECOVERY_KEYS = ['window']
export const UPSTREAM_KEYS = ['url', 'timeout', 'stripRequestHeaders']
export const STORE_KEYS = ['url', 'keyPrefix']
export const LOG_KEYS = ['level']
export const WATCH_KEYS = ['poll']
export const ROUTE_KEYS = Object.keys(routeFields)
export const SPLIT_KEYS = Object.keys(splitSchema.in.shape)
export const GRANT_KEYS = Object.keys(grantFields)
export const ACCESS_KEYS = Object.keys(accessFields)

/** A block's keys; a key that is a block too maps to its own tree. */
type KeyTree = { readonly [key: string]: KeyTree | null }

const leaves = (keys: readonly string[], nested: Record<string, KeyTree> = {}): KeyTree =>
  Object.fromEntries(keys.map((key) => [key, nested[key] ?? null]))

/** blocks whose value is a list of blocks: their keys read `routes[].match` */
const LISTS = new Set(['routes', 'routes[].splits'])
/** blocks that also take a plain value (`watch: false`, `recipient: "0x…"`); a method's come from its schema */
const SCALAR_TOO = new Set(['watch'])

/**
 * A method section's keys, from its plugin's schema: an object's shape, or for a key whose value
 * a transform reads, the keys its `.meta({ keys, scalarToo })` names (tempo's `feePayer`, say).
 */
function schemaTree(schema: z.ZodType, path = ''): KeyTree {
  const object = unwrapSchema(schema)
  if (!(object instanceof z.ZodObject)) return {}
  const shape = object.shape as Record<string, z.ZodType>
  return Object.fromEntries(
    Object.entries(shape).map(([key, field]) => {
      const meta = field.meta() as { keys?: readonly string[]; scalarToo?: boolean } | undefined
      if (meta?.keys) {
        if (meta.scalarToo) SCALAR_TOO_IN_METHODS.add(`${path}${key}`)
        return [key, leaves(meta.keys)]
      }
      return [key, unwrapSchema(field) instanceof z.ZodObject ? schemaTree(field, `${path}${key}.`) : null]
    }),
  )
}

/** keys inside a method section (`recipient`) that are blocks and take a plain value too */
const SCALAR_TOO_IN_METHODS = new Set<string>()

const TREE: KeyTree = leaves(TOP_KEYS, {
  upstream: leaves(UPSTREAM_KEYS),
  store: leaves(STORE_KEYS),
  log: leaves(LOG_KEYS),
  methods: Object.fromEntries(methodPlugins.map((plugin) => [plugin.name, schemaTree(plugin.configSchema)])),
  routes: leaves(ROUTE_KEYS, {
    splits: leaves(SPLIT_KEYS),
    grant: leaves(GRANT_KEYS),
    access: leaves(ACCESS_KEYS),
  }),
  cors: leaves(CORS_KEYS),
  rateLimit: leaves(RATE_LIMIT_KEYS, { challenges: leaves(BUDGET_KEYS), depositIntents: leaves(BUDGET_KEYS) }),
  discovery: leaves(DISCOVERY_KEYS),
  shutdown: leaves(SHUTDOWN_KEYS),
  recovery: leaves(RECOVERY_KEYS),
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
      const inMethod = /^methods\.[^.]+\.(.+)$/.exec(path)?.[1]
      if (sub === null || SCALAR_TOO.has(path) || (inMethod && SCALAR_TOO_IN_METHODS.has(inMethod))) paths.push(path)
      if (sub !== null) walk(sub, LISTS.has(path) ? `${path}[]` : path)
    }
  }
  walk(TREE, '')
  return paths
}
