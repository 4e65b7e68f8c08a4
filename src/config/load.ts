import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { parseDocument } from 'yaml'
import type { z } from 'zod'
import { adminSchema } from './admin.js'
import { expandEnv } from './expand-env.js'
import { topKeysSchema } from './keys.js'
import {
  bodyLimitFindings,
  duplicateProblem,
  priceFinding,
  requirementProblem,
  routeMethodsFindings,
  shadowingProblems,
  sharedStoreNeedsKey,
  splitsProblem,
  workersProblem,
} from './cross-checks.js'
import { durationMs } from './fields.js'
import { accessParamProblem, grantProblems } from './grant-checks.js'
import { checkSchema, joinPath, kind, requiredKeys } from './issues.js'
import {
  errorLines,
  fail,
  found,
  newProblems,
  notice,
  type Problems,
  section,
  unsetVariables,
  warningLines,
} from './problems.js'
import { isPlaceholder } from './placeholders.js'
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_UPSTREAM_FAILURE, routeFields, routeKeysSchema } from './route-schema.js'
import {
  modeSchema,
  routingSchema,
  storeSchema,
  EXAMPLE_UPSTREAM,
  upstreamSchema,
  DEFAULT_LISTEN,
  listenSchema,
  workersSchema,
  corsSchema,
  currencySchema,
  discoverySchema,
  limitsSchema,
  previousSecretKeysSchema,
  realmSchema,
  secretKeySchema,
  trustedProxiesSchema,
  logSchema,
  rateLimitSchema,
  recoverySchema,
  shutdownSchema,
  watchSchema,
} from './schema.js'
import { applySandbox, type SandboxEndpoints } from '../sandbox/config.js'
import { methodPlugins } from '../methods/index.js'
import type { MethodPlugin } from '../methods/plugin.js'
import type {
  GatewayConfig,
  LimitsConfig,
  MethodsConfig,
  RouteConfig,
  RouteMode,
  RouteGrant,
  RoutePrice,
  RouteSplit,
} from './types.js'

/** `hash`: sha-256 (hex) of the file's text, so an operator can tell which version is live. */
export type LoadResult =
  | { ok: true; config: GatewayConfig; warnings: string[]; hash: string }
  | { ok: false; errors: string[] }

export type Env = Record<string, string | undefined>

export interface LoadOptions {
  /** defaults to process.env */
  env?: Env
  /** how errors name the file; defaults to the path as given */
  displayName?: string
  /** where the bundled example API runs, for `upstream.url: "example"` (default http://127.0.0.1:3000) */
  exampleUpstream?: string
  /** `serve --sandbox`: the stand-ins the methods are pointed at */
  sandbox?: SandboxEndpoints
  /** the payment methods `methods` may configure (default: methodPlugins) */
  plugins?: readonly MethodPlugin[]
}

/** The parts of LoadOptions that come from the running process rather than the file. */
export type RuntimeOptions = Pick<LoadOptions, 'exampleUpstream' | 'sandbox' | 'plugins'>

/** Reads and validates a config file; every problem is reported, not just the first. */
export async function loadConfig(file: string, options: LoadOptions = {}): Promise<LoadResult> {
  const displayName = options.displayName ?? file
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    return { ok: false, errors: [`${displayName}: cannot read: ${readFailure(error)}`] }
  }
  return parseConfig(text, file, options.env ?? process.env, displayName, options)
}

/** Parses and validates config text; `file` becomes `config.file` (made absolute). */
export function parseConfig(
  text: string,
  file: string,
  env: Env = process.env,
  displayName: string = file,
  runtime: RuntimeOptions = {},
): LoadResult {
  const doc = parseDocument(text)
  const located = (error: { message: string; linePos?: ReadonlyArray<{ line: number; col: number }> }) => {
    const pos = error.linePos?.[0]
    // yaml appends " at line L, column C:" and a source excerpt; the position goes up front instead.
    const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')
    return pos ? `${displayName}:${pos.line}:${pos.col}: ${message}` : `${displayName}: ${message}`
  }
  if (doc.errors.length > 0) return { ok: false, errors: doc.errors.map(located) }
  let raw: unknown
  try {
    raw = doc.toJS({ mapAsMap: true })
  } catch (error) {
    return { ok: false, errors: [`${displayName}: ${error instanceof Error ? error.message : String(error)}`] }
  }
  const load: Load = {
    problems: newProblems(),
    env,
    exampleUpstream: runtime.exampleUpstream ?? 'http://127.0.0.1:3000',
    plugins: runtime.plugins ?? methodPlugins,
    methods: { configured: [], disabled: new Map(), example: false },
  }
  const expanded = expand(load, raw, '')
  if (runtime.sandbox) applySandbox(expanded, runtime.sandbox)
  const config = gateway(load, expanded, resolve(file), displayName)
  const errors = errorLines(load.problems, displayName)
  if (errors.length > 0 || !config) return { ok: false, errors }
  return {
    ok: true,
    config,
    warnings: [...doc.warnings.map(located), ...warningLines(load.problems, displayName)],
    hash: createHash('sha256').update(text).digest('hex'),
  }
}

function readFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'ENOENT') return 'no such file'
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'EISDIR') return 'is a directory'
  return error instanceof Error ? error.message : String(error)
}

/** A value whose problem was already reported (bad `${...}` syntax): checked no further. */
const REPORTED = Symbol('reported')

type Mapping = Map<string, unknown>

/** stands in for an absent optional block: every key reads as absent */
const EMPTY: Mapping = new Map()

/** One load of a config: what it found so far, and what the later parts read of the earlier ones. */
interface Load {
  readonly problems: Problems
  readonly env: Env
  readonly exampleUpstream: string
  readonly plugins: readonly MethodPlugin[]
  /**
   * names of the payment methods present under `methods`, valid or not, so routes can refer to them;
   * those switched off, with why (e.g. "methods.tempo.recipient is empty (...)"); and whether this is
   * the sample config (`upstream.url: "example"`)
   */
  readonly methods: { configured: string[]; disabled: Map<string, string>; example: boolean }
}

/** Expands environment variables in every string value (never in keys), turning YAML maps into Maps keyed by string. */
function expand(load: Load, value: unknown, path: string): unknown {
  if (typeof value === 'string') {
    try {
      const { value: expanded, missing } = expandEnv(value, load.env)
      if (missing.length > 0) load.problems.missing.set(path, missing)
      if (value.includes('${')) load.problems.written.set(path, value)
      return expanded
    } catch (error) {
      fail(load.problems, path, error instanceof Error ? error.message : String(error))
      return REPORTED
    }
  }
  if (Array.isArray(value)) return value.map((item, i) => expand(load, item, `${path}[${i}]`))
  if (value instanceof Map) {
    const out: Mapping = new Map()
    for (const [key, item] of value) {
      const name = String(key)
      out.set(name, expand(load, item, joinPath(path, name)))
    }
    return out
  }
  return value
}

function gateway(load: Load, root: unknown, file: string, displayName: string): GatewayConfig | undefined {
  const p = load.problems
  if (root === null || root === undefined)
    return fail(p, '', 'the file is empty; it needs at least realm, upstream and routes')
  const top = mapping(p, root, '')
  if (!top) return undefined
  // the keys alone, so a key written with nothing after it (`secretkey:`) is still refused, and every
  // problem is kept, even at a key whose `${...}` was already reported
  const keys = checkSchema(topKeysSchema, Object.fromEntries([...top.keys()].map((key) => [key, true])), '')
  if (!keys.ok) p.issues.push(...keys.issues)

  const listenValue = get(top, 'listen')
  // the admin port is compared with the public one: a value of the wrong type stands for the default
  const listen = section(
    p,
    listenSchema,
    listenValue,
    'listen',
    typeof listenValue === 'string' ? undefined : DEFAULT_LISTEN,
  )
  const realm = section(p, realmSchema, get(top, 'realm'), 'realm', undefined)
  const secretKey = section(p, secretKeySchema, get(top, 'secretKey'), 'secretKey', undefined)
  const previousSecretKeys = section(
    p,
    previousSecretKeysSchema,
    get(top, 'previousSecretKeys'),
    'previousSecretKeys',
    [],
  )
  const challengeTtlMs = section(p, durationMs('5m', 1000), get(top, 'challengeTtl'), 'challengeTtl', 0)
  const currency = section(p, currencySchema, get(top, 'currency'), 'currency', 'usd')
  const upstream = readUpstream(load, top)
  const store = readStore(p, top)
  const recovery = section(p, recoverySchema(challengeTtlMs), get(top, 'recovery') ?? EMPTY, 'recovery', {
    windowMs: 0,
  })
  if (
    store.url &&
    secretKey === undefined &&
    !p.issues.some((issue) => issue.path === 'secretKey' || issue.path === 'store.url')
  ) {
    fail(
      p,
      'secretKey',
      sharedStoreNeedsKey(p.missing.has('secretKey') ? [] : unsetVariables(p, load.env, 'secretKey')),
    )
  }
  const logLevel = section(p, logSchema, get(top, 'log') ?? EMPTY, 'log', 'info')
  const methods = readMethods(load, top)
  if (!store.url) withoutStore(load, methods)
  const mode = section(p, modeSchema, get(top, 'mode'), 'mode', undefined) ?? 'enforce'
  const routes = readRoutes(load, top, mode)
  const trustedProxies = section(p, trustedProxiesSchema, get(top, 'trustedProxies'), 'trustedProxies', [])
  const corsValue = get(top, 'cors')
  const cors = corsValue === undefined ? undefined : section(p, corsSchema, corsValue, 'cors', undefined)
  const { challengeRateLimit, depositIntentRateLimit } = section(
    p,
    rateLimitSchema,
    get(top, 'rateLimit') ?? EMPTY,
    'rateLimit',
    rateLimitSchema.parse({}),
  )
  const discovery = section(p, discoverySchema, get(top, 'discovery') ?? EMPTY, 'discovery', {})
  const shutdown = section(p, shutdownSchema, get(top, 'shutdown') ?? EMPTY, 'shutdown', { graceMs: 0, timeoutMs: 0 })
  const limits = readLimits(p, top, routes)
  const { watch, watchPollMs } = section<z.output<typeof watchSchema>, z.output<typeof watchSchema>>(
    p,
    watchSchema,
    get(top, 'watch'),
    'watch',
    { watch: true },
  )
  const workers = readWorkers(p, top, store)
  // admin's checks lean on the public port and on the variables admin.token names
  const admin = section(p, adminSchema(listen, p.missing.get('admin.token')), get(top, 'admin'), 'admin', undefined)

  if (p.issues.length > 0) return undefined
  // No issue means every required part was produced.
  return {
    file,
    displayName,
    listen: listen!,
    realm: realm!,
    ...(secretKey ? { secretKey } : {}),
    previousSecretKeys,
    challengeTtlMs,
    currency,
    upstream: upstream!,
    store,
    recoveryWindowMs: recovery.windowMs,
    methods,
    routes: routes!,
    logLevel,
    trustedProxies,
    ...(cors ? { cors } : {}),
    ...(challengeRateLimit ? { challengeRateLimit } : {}),
    depositIntentRateLimit,
    discovery,
    shutdown,
    limits,
    watch,
    ...(watchPollMs !== undefined ? { watchPollMs } : {}),
    workers,
    ...(admin ? { admin } : {}),
  }
}

// ---- generic readers -------------------------------------------------------------------------

function mapping(p: Problems, value: unknown, path: string): Mapping | undefined {
  if (value === REPORTED) return undefined
  if (value instanceof Map) return value as Mapping
  return fail(p, path, `must be a mapping (got ${kind(value)})`)
}

/** The value at `key`; YAML null (`key:` with nothing after it) counts as absent. */
function get(map: Mapping, key: string): unknown {
  const value = map.get(key)
  return value === null ? undefined : value
}

// ---- top-level fields ------------------------------------------------------------------------

function readUpstream(load: Load, top: Mapping): GatewayConfig['upstream'] | undefined {
  const p = load.problems
  const value = get(top, 'upstream')
  load.methods.example = value instanceof Map && get(value as Mapping, 'url') === EXAMPLE_UPSTREAM
  if (load.methods.example) {
    const names = unsetVariables(p, load.env, 'upstream.url')
    const how = names.length > 0 ? `set ${names.join(', ')}` : 'set upstream.url'
    notice(
      p,
      'upstream.url',
      `is "example": requests go to the bundled example API (examples/upstream/server.mjs), not to your API; ${how} to your API's URL`,
    )
  }
  const upstream = section(p, upstreamSchema, value, 'upstream', undefined)
  if (!upstream) return undefined
  const { url, timeout, stripRequestHeaders } = upstream
  return url === EXAMPLE_UPSTREAM
    ? { url: new URL(load.exampleUpstream), timeoutMs: timeout, stripRequestHeaders, example: true }
    : { url, timeoutMs: timeout, stripRequestHeaders }
}

function readStore(p: Problems, top: Mapping): GatewayConfig['store'] {
  const value = get(top, 'store')
  const url = value instanceof Map ? get(value as Mapping, 'url') : undefined
  // what the checks that lean on store.url (workers, secretKey) see when the block has a problem
  const fallback = { keyPrefix: 'mppgw:', ...(typeof url === 'string' && URL.canParse(url) ? { url } : {}) }
  return section(p, storeSchema, value ?? EMPTY, 'store', fallback)
}

/** Processes serving one port (node:cluster). Single use across them needs the shared store. */
function readWorkers(p: Problems, top: Mapping, store: GatewayConfig['store']): number {
  const workers = section(p, workersSchema, get(top, 'workers'), 'workers', 1)
  const problem = workersProblem(workers, store)
  if (problem) fail(p, 'workers', problem)
  return workers
}

function readLimits(p: Problems, top: Mapping, routes: readonly RouteConfig[] | undefined): LimitsConfig {
  const limits = section(p, limitsSchema, get(top, 'limits') ?? EMPTY, 'limits', undefined)
  if (!limits) return limitsSchema.parse({})
  found(p, bodyLimitFindings(routes ?? [], limits))
  return limits
}

// ---- methods ---------------------------------------------------------------------------------

function readMethods(load: Load, top: Mapping): MethodsConfig {
  const p = load.problems
  const value = get(top, 'methods')
  if (value === undefined) return {}
  const map = mapping(p, value, 'methods')
  if (!map) return {}
  // Filled in the order written: that is the order of challenges.
  const methods: Record<string, unknown> = {}
  for (const [name, config] of map) {
    const path = joinPath('methods', name)
    const plugin = load.plugins.find((candidate) => candidate.name === name)
    if (!plugin) {
      fail(p, path, `unknown payment method (known: ${load.plugins.map((known) => known.name).join(', ')})`, false)
      continue
    }
    load.methods.configured.push(name)
    const parsed = pluginSection(load, plugin, config, path)
    if (parsed !== undefined) methods[name] = parsed
  }
  for (const [name, parsed] of Object.entries(methods)) {
    const requirement = pluginNamed(load, name).requires?.(parsed)
    if (!requirement) continue
    const { method } = requirement
    const problem = requirementProblem(
      requirement,
      load.methods.configured.includes(method),
      load.methods.disabled.get(method),
    )
    if (problem) fail(p, `${joinPath('methods', name)}.${requirement.key}`, problem)
  }
  return methods as MethodsConfig
}

/** The warnings of the parsed method sections that hold something in memory without store.url. */
function withoutStore(load: Load, methods: MethodsConfig): void {
  for (const [name, parsed] of Object.entries(methods)) {
    const warning = pluginNamed(load, name).withoutStore?.(parsed)
    if (warning) notice(load.problems, `${joinPath('methods', name)}.${warning.key}`, warning.message)
  }
}

function pluginNamed(load: Load, name: string): MethodPlugin {
  return load.plugins.find((plugin) => plugin.name === name)!
}

/** A plugin's own section, checked by its zod schema; its problems join the others. */
function pluginSection(load: Load, plugin: MethodPlugin, value: unknown, path: string): unknown {
  const p = load.problems
  const schema = plugin.configSchema!
  if (value === REPORTED) return undefined
  if (value === null || value === undefined) {
    const keys = requiredKeys(schema)
    return fail(
      p,
      path,
      keys.length > 0 ? `must be a mapping with at least ${keys.join(' and ')}` : 'must be a mapping',
    )
  }
  const map = mapping(p, value, path)
  if (!map) return undefined
  const placeholder = placeholderDisables(load, plugin, map, path)
  const parsed = section(p, schema, map, path, undefined)
  const off = emptyDisables(load, plugin, map, path)
  return placeholder || off ? undefined : parsed
}

/**
 * An empty value at the plugin's `emptyDisables` key (an unset variable) switches the method off
 * rather than failing, so the example config runs before anyone has, say, a Tempo address; routes
 * that name the method then fail.
 */
function emptyDisables(load: Load, plugin: MethodPlugin, map: Mapping, path: string): boolean {
  const rule = plugin.emptyDisables
  if (!rule || get(map, rule.key) !== '') return false
  const at = joinPath(path, rule.key)
  const names = unsetVariables(load.problems, load.env, at)
  const how = names.length > 0 ? `set ${names.join(', ')} to ${rule.purpose}` : `set it to ${rule.purpose}`
  load.methods.disabled.set(plugin.name, `${at} is empty (${how})`)
  notice(load.problems, at, `is empty, so the ${plugin.name} method is disabled (${how})`)
  return true
}

/**
 * A value copied from the examples (a Stripe key, say) can never take a payment: like an empty
 * Tempo recipient, it switches the method off with a warning, so the sample config still runs.
 */
function placeholderDisables(load: Load, plugin: MethodPlugin, map: Mapping, path: string): boolean {
  const { keys = [], owner = plugin.name } = plugin.examplePlaceholders ?? {}
  const placeholders = keys.filter((key) => {
    const value = get(map, key)
    return typeof value === 'string' && isPlaceholder(value)
  })
  if (placeholders.length === 0) return false
  const at = placeholders.map((key) => joinPath(path, key)).join(' and ')
  const names = placeholders.flatMap((key) =>
    [...(load.problems.written.get(joinPath(path, key)) ?? '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map(
      (m) => m[1]!,
    ),
  )
  const how =
    names.length > 0 ? `set ${names.join(', ')} to your own ${owner} values` : `replace it with your own ${owner} value`
  const is = placeholders.length === 1 ? 'is a placeholder' : 'are placeholders'
  load.methods.disabled.set(plugin.name, `${at} ${is} (${how})`)
  notice(load.problems, at, `${is} from the examples, so the ${plugin.name} method is disabled (${how})`)
  return true
}

// ---- routes ----------------------------------------------------------------------------------

function readRoutes(load: Load, top: Mapping, mode: RouteMode): RouteConfig[] | undefined {
  const p = load.problems
  const value = get(top, 'routes')
  if (value === undefined) return fail(p, 'routes', 'is required')
  if (value === REPORTED) return undefined
  if (!Array.isArray(value)) return fail(p, 'routes', `must be a list of routes (got ${kind(value)})`)
  if (value.length === 0) return fail(p, 'routes', 'must list at least one route')
  const { caseSensitive } = section(p, routingSchema, get(top, 'routing') ?? EMPTY, 'routing', {
    caseSensitive: false,
  })
  const routes: RouteConfig[] = []
  const seen = new Map<string, number>()
  const shadowsOk = new Set<number>()
  value.forEach((item: unknown, index) => {
    const route = readRoute(load, item, index, { seen, mode, caseSensitive, shadowsOk })
    if (route) routes.push(route)
  })
  for (const { path, problem } of shadowingProblems(routes, shadowsOk)) fail(p, path, problem)
  for (const { path, problem } of grantProblems(routes)) fail(p, path, problem)
  return routes
}

/** What each route reads of the routes before it, and the defaults it inherits. */
interface RouteContext {
  /** the matches seen so far, for duplicates */
  readonly seen: Map<string, number>
  readonly mode: RouteMode
  readonly caseSensitive: boolean
  /** the indexes of the routes with `shadows: true` */
  readonly shadowsOk: Set<number>
}

function readRoute(load: Load, value: unknown, index: number, context: RouteContext): RouteConfig | undefined {
  const p = load.problems
  const path = `routes[${index}]`
  const map = mapping(p, value, path)
  if (!map) return undefined
  section(p, routeKeysSchema, map, path, undefined)
  const at = (key: keyof typeof routeFields) => `${path}.${key}`

  const matched = section(p, routeFields.match, get(map, 'match'), at('match'), undefined)
  const duplicate = matched && duplicateProblem(context.seen, matched, index)
  if (duplicate) fail(p, at('match'), duplicate)

  const access = section(p, routeFields.access, get(map, 'access'), at('access'), undefined)
  if (access && matched) {
    const problem = accessParamProblem(matched.path, access.param)
    if (problem) fail(p, `${at('access')}.param`, problem)
  }
  // A route with access is free: the key is what lets a request through, never a payment.
  const priceValue = get(map, 'price') ?? (get(map, 'access') !== undefined ? 'free' : undefined)
  const priced = section(p, routeFields.price, priceValue, at('price'), undefined)
  const written =
    access && priced?.kind === 'charge'
      ? fail(p, at('price'), 'must be "free" or left out on a route with access (the key is the access)')
      : priced
  const priceFound = written && priceFinding(written, at('price'), load.methods, get(map, 'methods') !== undefined)
  const price = priceFound && 'problem' in priceFound ? undefined : written
  if (priceFound) found(p, [priceFound])
  const description = section(p, routeFields.description, get(map, 'description'), at('description'), undefined)
  const methods = routeMethods(load, map, at('methods'), price)
  const maxBodyBytes = section(
    p,
    routeFields.maxBodyBytes,
    get(map, 'maxBodyBytes'),
    at('maxBodyBytes'),
    DEFAULT_MAX_BODY_BYTES,
  )
  const splits = routeSplits(p, map, at('splits'), price)
  const mode = section(p, routeFields.mode, get(map, 'mode'), at('mode'), undefined) ?? context.mode
  const caseSensitive =
    section(p, routeFields.caseSensitive, get(map, 'caseSensitive'), at('caseSensitive'), undefined) ??
    context.caseSensitive
  if (section(p, routeFields.shadows, get(map, 'shadows'), at('shadows'), false)) context.shadowsOk.add(index)
  const validate = section(p, routeFields.validate, get(map, 'validate'), at('validate'), undefined)
  const onUpstreamFailure = section(
    p,
    routeFields.onUpstreamFailure,
    get(map, 'onUpstreamFailure') ?? EMPTY,
    at('onUpstreamFailure'),
    DEFAULT_UPSTREAM_FAILURE,
  )
  const grant = routeGrant(p, map, at('grant'), price)

  if (!matched || !price) return undefined
  return {
    index,
    ...matched,
    price,
    mode,
    ...(description !== undefined ? { description } : {}),
    ...(methods !== undefined ? { methods } : {}),
    maxBodyBytes,
    ...(splits !== undefined ? { splits } : {}),
    ...(caseSensitive ? { caseSensitive: true as const } : {}),
    // only a paid request has an upstream failure to recover from
    ...(price.kind === 'charge' ? { onUpstreamFailure } : {}),
    ...(validate && price.kind === 'charge' ? { validate } : {}),
    ...(grant !== undefined ? { grant } : {}),
    ...(access !== undefined ? { access } : {}),
  }
}

/** A priced route's grant; a free route has no payment to grant a key for. */
function routeGrant(p: Problems, map: Mapping, at: string, price: RoutePrice | undefined): RouteGrant | undefined {
  const value = get(map, 'grant')
  if (value === undefined || value === REPORTED) return undefined
  if (price?.kind === 'free') return fail(p, at, 'not allowed on a free route (a key is granted for a payment)')
  return section(p, routeFields.grant, value, at, undefined)
}

/** The route's own `methods`, less the disabled ones; undefined: absent, or reported. */
function routeMethods(load: Load, map: Mapping, at: string, price: RoutePrice | undefined): string[] | undefined {
  const p = load.problems
  const value = get(map, 'methods')
  if (value === undefined || value === REPORTED) return undefined
  if (price?.kind === 'free') return fail(p, at, 'not allowed on a free route')
  const names = section(p, routeFields.methods, value, at, undefined)
  if (!names || !found(p, routeMethodsFindings(names, at, load.methods))) return undefined
  return names.filter((name) => !load.methods.disabled.has(name))
}

function routeSplits(p: Problems, map: Mapping, at: string, price: RoutePrice | undefined): RouteSplit[] | undefined {
  const value = get(map, 'splits')
  if (value === undefined || value === REPORTED) return undefined
  if (price?.kind === 'free') return fail(p, at, 'not allowed on a free route')
  const splits = section(p, routeFields.splits, value, at, undefined)
  const problem = splits && splitsProblem(price, splits)
  return problem ? fail(p, at, problem) : splits
}
