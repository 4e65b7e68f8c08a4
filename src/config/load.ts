import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { parseDocument } from 'yaml'
import type { z } from 'zod'
import { type AdminConfig, adminSchema } from './admin.js'
import { expandEnv } from './expand-env.js'
import { TOP_KEYS } from './keys.js'
import {
  bodyLimitFindings,
  duplicateProblem,
  type Finding,
  type MethodsState,
  priceFinding,
  requirementProblem,
  routeMethodsFindings,
  shadowingProblems,
  sharedStoreNeedsKey,
  splitsProblem,
  workersProblem,
} from './cross-checks.js'
import { durationMs } from './fields.js'
import { checkSchema, type Issue, requiredKeys, joinPath, kind, notSet, unknownKey } from './issues.js'
import { isPlaceholder } from './placeholders.js'
import { DEFAULT_MAX_BODY_BYTES, routeFields, routeKeysSchema } from './route-schema.js'
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
  const validator = new Validator(env, runtime.exampleUpstream, runtime.plugins)
  const expanded = validator.expand(raw, '')
  if (runtime.sandbox) applySandbox(expanded, runtime.sandbox)
  const config = validator.gateway(expanded, resolve(file), displayName)
  const errors = validator.errors(displayName)
  if (errors.length > 0 || !config) return { ok: false, errors }
  return {
    ok: true,
    config,
    warnings: [...doc.warnings.map(located), ...validator.warnings(displayName)],
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

class Validator {
  private readonly issues: Issue[] = []
  /** unset environment variables, by the key path of the string that referenced them */
  private readonly missing = new Map<string, string[]>()
  /** names of the payment methods present under `methods`, valid or not, so routes can refer to them */
  private configuredMethods: string[] = []
  /** configured methods that are switched off, with why (e.g. "methods.tempo.recipient is empty (...)") */
  private readonly disabled = new Map<string, string>()
  /** things worth a warning that are not errors, by key path */
  private readonly notices: Array<{ path: string; message: string }> = []
  /** the text as written, before expansion, of every string that references a variable */
  private readonly written = new Map<string, string>()

  /** `upstream.url: "example"`: the sample config, in front of the bundled example API */
  private example = false

  constructor(
    private readonly env: Env,
    private readonly exampleUpstream = 'http://127.0.0.1:3000',
    private readonly plugins: readonly MethodPlugin[] = methodPlugins,
  ) {}

  errors(displayName: string): string[] {
    return this.issues.map(({ path, problem, aboutValue }) => {
      const names = aboutValue ? this.missing.get(path) : undefined
      return `${displayName}: ${path ? `${path}: ` : ''}${problem}${names ? ` (${notSet(names)})` : ''}`
    })
  }

  warnings(displayName: string): string[] {
    const explained = new Set([...this.issues, ...this.notices].map((item) => item.path))
    return [
      ...[...this.missing]
        .filter(([path]) => !explained.has(path))
        .map(([path, names]) => `${displayName}: ${path}: ${notSet(names)}, so it expands to ""`),
      ...this.notices.map(({ path, message }) => `${displayName}: ${path}: ${message}`),
    ]
  }

  private fail(path: string, problem: string, aboutValue = true): undefined {
    this.issues.push({ path, problem, aboutValue })
    return undefined
  }

  /** Expands environment variables in every string value (never in keys), turning YAML maps into Maps keyed by string. */
  expand(value: unknown, path: string): unknown {
    if (typeof value === 'string') {
      try {
        const { value: expanded, missing } = expandEnv(value, this.env)
        if (missing.length > 0) this.missing.set(path, missing)
        if (value.includes('${')) this.written.set(path, value)
        return expanded
      } catch (error) {
        this.fail(path, error instanceof Error ? error.message : String(error))
        return REPORTED
      }
    }
    if (Array.isArray(value)) return value.map((item, i) => this.expand(item, `${path}[${i}]`))
    if (value instanceof Map) {
      const out: Mapping = new Map()
      for (const [key, item] of value) {
        const name = String(key)
        out.set(name, this.expand(item, joinPath(path, name)))
      }
      return out
    }
    return value
  }

  gateway(root: unknown, file: string, displayName: string): GatewayConfig | undefined {
    if (root === null || root === undefined)
      return this.fail('', 'the file is empty; it needs at least realm, upstream and routes')
    const top = this.mapping(root, '')
    if (!top) return undefined
    this.knownKeys(top, '', TOP_KEYS)

    const listenValue = this.get(top, 'listen')
    // the admin port is compared with the public one: a value of the wrong type stands for the default
    const listen = this.section(
      listenSchema,
      listenValue,
      'listen',
      typeof listenValue === 'string' ? undefined : DEFAULT_LISTEN,
    )
    const realm = this.section(realmSchema, this.get(top, 'realm'), 'realm', undefined)
    const secretKey = this.section(secretKeySchema, this.get(top, 'secretKey'), 'secretKey', undefined)
    const previousSecretKeys = this.section(
      previousSecretKeysSchema,
      this.get(top, 'previousSecretKeys'),
      'previousSecretKeys',
      [],
    )
    const challengeTtlMs = this.section(durationMs('5m', 1000), this.get(top, 'challengeTtl'), 'challengeTtl', 0)
    const currency = this.section(currencySchema, this.get(top, 'currency'), 'currency', 'usd')
    const upstream = this.upstream(top)
    const store = this.store(top)
    if (
      store.url &&
      secretKey === undefined &&
      !this.issues.some((issue) => issue.path === 'secretKey' || issue.path === 'store.url')
    ) {
      this.fail('secretKey', sharedStoreNeedsKey(this.missing.has('secretKey') ? [] : this.unsetVariables('secretKey')))
    }
    const logLevel = this.section(logSchema, this.get(top, 'log') ?? EMPTY, 'log', 'info')
    const methods = this.methods(top)
    if (!store.url) this.withoutStore(methods)
    const mode = this.section(modeSchema, this.get(top, 'mode'), 'mode', undefined) ?? 'enforce'
    const routes = this.routes(top, mode)
    const trustedProxies = this.section(trustedProxiesSchema, this.get(top, 'trustedProxies'), 'trustedProxies', [])
    const corsValue = this.get(top, 'cors')
    const cors = corsValue === undefined ? undefined : this.section(corsSchema, corsValue, 'cors', undefined)
    const { challengeRateLimit, depositIntentRateLimit } = this.section(
      rateLimitSchema,
      this.get(top, 'rateLimit') ?? EMPTY,
      'rateLimit',
      rateLimitSchema.parse({}),
    )
    const discovery = this.section(discoverySchema, this.get(top, 'discovery') ?? EMPTY, 'discovery', {})
    const shutdown = this.section(shutdownSchema, this.get(top, 'shutdown') ?? EMPTY, 'shutdown', {
      graceMs: 0,
      timeoutMs: 0,
    })
    const limits = this.limits(top, routes)
    const { watch, watchPollMs } = this.section<z.output<typeof watchSchema>, z.output<typeof watchSchema>>(
      watchSchema,
      this.get(top, 'watch'),
      'watch',
      { watch: true },
    )
    const workers = this.workers(top, store)
    const admin = this.admin(top, listen)

    if (this.issues.length > 0) return undefined
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

  /** Processes serving one port (node:cluster). Single use across them needs the shared store. */
  /** Processes serving one port (node:cluster). Single use across them needs the shared store. */
  private workers(top: Mapping, store: GatewayConfig['store']): number {
    const workers = this.section(workersSchema, this.get(top, 'workers'), 'workers', 1)
    const problem = workersProblem(workers, store)
    if (problem) this.fail('workers', problem)
    return workers
  }

  // ---- generic readers -------------------------------------------------------------------------

  private mapping(value: unknown, path: string): Mapping | undefined {
    if (value === REPORTED) return undefined
    if (value instanceof Map) return value as Mapping
    return this.fail(path, `must be a mapping (got ${kind(value)})`)
  }

  private knownKeys(map: Mapping, path: string, known: readonly string[]): void {
    for (const key of map.keys()) {
      if (known.includes(key)) continue
      this.fail(joinPath(path, key), unknownKey(key, known), false)
    }
  }

  /** The value at `key`; YAML null (`key:` with nothing after it) counts as absent. */
  private get(map: Mapping, key: string): unknown {
    const value = map.get(key)
    return value === null ? undefined : value
  }

  private required(map: Mapping, key: string, path: string): unknown {
    const value = this.get(map, key)
    if (value === undefined) this.fail(joinPath(path, key), 'is required')
    return value
  }

  // ---- top-level fields ------------------------------------------------------------------------

  private upstream(top: Mapping): GatewayConfig['upstream'] | undefined {
    const value = this.get(top, 'upstream')
    this.example = value instanceof Map && this.get(value as Mapping, 'url') === EXAMPLE_UPSTREAM
    if (this.example) {
      const names = this.unsetVariables('upstream.url')
      const how = names.length > 0 ? `set ${names.join(', ')}` : 'set upstream.url'
      this.notices.push({
        path: 'upstream.url',
        message: `is "example": requests go to the bundled example API (examples/upstream/server.mjs), not to your API; ${how} to your API's URL`,
      })
    }
    const upstream = this.section(upstreamSchema, value, 'upstream', undefined)
    if (!upstream) return undefined
    const { url, timeout, stripRequestHeaders } = upstream
    return url === EXAMPLE_UPSTREAM
      ? { url: new URL(this.exampleUpstream), timeoutMs: timeout, stripRequestHeaders, example: true }
      : { url, timeoutMs: timeout, stripRequestHeaders }
  }

  private store(top: Mapping): GatewayConfig['store'] {
    const value = this.get(top, 'store')
    const url = value instanceof Map ? this.get(value as Mapping, 'url') : undefined
    // what the checks that lean on store.url (workers, secretKey) see when the block has a problem
    const fallback = { keyPrefix: 'mppgw:', ...(typeof url === 'string' && URL.canParse(url) ? { url } : {}) }
    return this.section(storeSchema, value ?? EMPTY, 'store', fallback)
  }

  // ---- methods ---------------------------------------------------------------------------------

  private methods(top: Mapping): MethodsConfig {
    const value = this.get(top, 'methods')
    if (value === undefined) return {}
    const map = this.mapping(value, 'methods')
    if (!map) return {}
    // Filled in the order written: that is the order of challenges.
    const methods: Record<string, unknown> = {}
    for (const [name, config] of map) {
      const path = joinPath('methods', name)
      const plugin = this.plugins.find((p) => p.name === name)
      if (!plugin) {
        this.fail(path, `unknown payment method (known: ${this.plugins.map((p) => p.name).join(', ')})`, false)
        continue
      }
      this.configuredMethods.push(name)
      const section = this.pluginSection(plugin, config, path)
      if (section !== undefined) methods[name] = section
    }
    for (const [name, section] of Object.entries(methods)) {
      const requirement = this.pluginNamed(name).requires?.(section)
      if (!requirement) continue
      const { method } = requirement
      const problem = requirementProblem(
        requirement,
        this.configuredMethods.includes(method),
        this.disabled.get(method),
      )
      if (problem) this.fail(`${joinPath('methods', name)}.${requirement.key}`, problem)
    }
    return methods as MethodsConfig
  }

  /** The warnings of the parsed method sections that hold something in memory without store.url. */
  private withoutStore(methods: MethodsConfig): void {
    for (const [name, section] of Object.entries(methods)) {
      const notice = this.pluginNamed(name).withoutStore?.(section)
      if (notice) this.notices.push({ path: `${joinPath('methods', name)}.${notice.key}`, message: notice.message })
    }
  }

  private pluginNamed(name: string): MethodPlugin {
    return this.plugins.find((p) => p.name === name)!
  }

  /** A plugin's own section, checked by its zod schema; its problems join the others. */
  private pluginSection(plugin: MethodPlugin, value: unknown, path: string): unknown {
    const schema = plugin.configSchema!
    if (value === REPORTED) return undefined
    if (value === null || value === undefined) {
      const keys = requiredKeys(schema)
      return this.fail(
        path,
        keys.length > 0 ? `must be a mapping with at least ${keys.join(' and ')}` : 'must be a mapping',
      )
    }
    const map = this.mapping(value, path)
    if (!map) return undefined
    const placeholder = this.placeholder(plugin, map, path)
    const section = this.section(schema, map, path, undefined)
    const off = this.emptyDisables(plugin, map, path)
    return placeholder || off ? undefined : section
  }

  /** A part checked by its zod schema: what it parses to, or `fallback` after its problems join the others. */
  private section<T, F>(schema: z.ZodType<T>, value: unknown, path: string, fallback: F): T | F {
    const checked = checkSchema(schema, value, path)
    if (checked.ok) return checked.data
    const reported = new Set(this.issues.map((issue) => issue.path))
    // a value whose `${...}` was already reported is checked no further
    for (const issue of checked.issues) if (!reported.has(issue.path)) this.issues.push(issue)
    return fallback
  }

  /**
   * An empty value at the plugin's `emptyDisables` key (an unset variable) switches the method off
   * rather than failing, so the example config runs before anyone has, say, a Tempo address; routes
   * that name the method then fail.
   */
  private emptyDisables(plugin: MethodPlugin, map: Mapping, path: string): boolean {
    const rule = plugin.emptyDisables
    if (!rule || this.get(map, rule.key) !== '') return false
    const at = joinPath(path, rule.key)
    const names = this.unsetVariables(at)
    const how = names.length > 0 ? `set ${names.join(', ')} to ${rule.purpose}` : `set it to ${rule.purpose}`
    this.disabled.set(plugin.name, `${at} is empty (${how})`)
    this.notices.push({ path: at, message: `is empty, so the ${plugin.name} method is disabled (${how})` })
    return true
  }

  /**
   * A value copied from the examples (a Stripe key, say) can never take a payment: like an empty
   * Tempo recipient, it switches the method off with a warning, so the sample config still runs.
   */
  private placeholder(plugin: MethodPlugin, map: Mapping, path: string): boolean {
    const { keys = [], owner = plugin.name } = plugin.examplePlaceholders ?? {}
    const found = keys.filter((key) => {
      const value = this.get(map, key)
      return typeof value === 'string' && isPlaceholder(value)
    })
    if (found.length === 0) return false
    const at = found.map((key) => joinPath(path, key)).join(' and ')
    const names = found.flatMap((key) =>
      [...(this.written.get(joinPath(path, key)) ?? '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!),
    )
    const how =
      names.length > 0
        ? `set ${names.join(', ')} to your own ${owner} values`
        : `replace it with your own ${owner} value`
    const is = found.length === 1 ? 'is a placeholder' : 'are placeholders'
    this.disabled.set(plugin.name, `${at} ${is} (${how})`)
    this.notices.push({
      path: at,
      message: `${is} from the examples, so the ${plugin.name} method is disabled (${how})`,
    })
    return true
  }

  /** The variables a string at `path` references that are unset or empty, from its text as written. */
  private unsetVariables(path: string): string[] {
    const text = this.written.get(path)
    if (text === undefined) return []
    const names: string[] = []
    for (const match of text.matchAll(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) {
      const name = match[1]
      if (name !== undefined && !this.env[name] && !names.includes(name)) names.push(name)
    }
    return names
  }

  // ---- operations ------------------------------------------------------------------------------

  /** `admin`: its checks lean on the public port and on the variables admin.token names. */
  private admin(top: Mapping, publicListen: { host: string; port: number } | undefined): AdminConfig | undefined {
    return this.section(
      adminSchema(publicListen, this.missing.get('admin.token')),
      this.get(top, 'admin'),
      'admin',
      undefined,
    )
  }

  private limits(top: Mapping, routes: readonly RouteConfig[] | undefined): LimitsConfig {
    const limits = this.section(limitsSchema, this.get(top, 'limits') ?? EMPTY, 'limits', undefined)
    if (!limits) return limitsSchema.parse({})
    this.found(bodyLimitFindings(routes ?? [], limits))
    return limits
  }

  // ---- routes ----------------------------------------------------------------------------------

  private routes(top: Mapping, mode: RouteMode): RouteConfig[] | undefined {
    const value = this.required(top, 'routes', '')
    if (value === undefined || value === REPORTED) return undefined
    if (!Array.isArray(value)) return this.fail('routes', `must be a list of routes (got ${kind(value)})`)
    if (value.length === 0) return this.fail('routes', 'must list at least one route')
    const { caseSensitive } = this.section(routingSchema, this.get(top, 'routing') ?? EMPTY, 'routing', {
      caseSensitive: false,
    })
    const routes: RouteConfig[] = []
    const seen = new Map<string, number>()
    const shadowsOk = new Set<number>()
    value.forEach((item: unknown, index) => {
      const route = this.route(item, index, seen, mode, caseSensitive, shadowsOk)
      if (route) routes.push(route)
    })
    this.shadowing(routes, shadowsOk)
    return routes
  }

  private shadowing(routes: readonly RouteConfig[], shadowsOk: ReadonlySet<number>): void {
    for (const { path, problem } of shadowingProblems(routes, shadowsOk)) this.fail(path, problem)
  }

  private route(
    value: unknown,
    index: number,
    seen: Map<string, number>,
    defaultMode: RouteMode,
    defaultCaseSensitive: boolean,
    shadowsOk: Set<number>,
  ): RouteConfig | undefined {
    const path = `routes[${index}]`
    const map = this.mapping(value, path)
    if (!map) return undefined
    this.section(routeKeysSchema, map, path, undefined)
    const at = (key: keyof typeof routeFields) => `${path}.${key}`

    const matched = this.section(routeFields.match, this.get(map, 'match'), at('match'), undefined)
    const duplicate = matched && duplicateProblem(seen, matched, index)
    if (duplicate) this.fail(at('match'), duplicate)

    const written = this.section(routeFields.price, this.get(map, 'price'), at('price'), undefined)
    const priceFound =
      written && priceFinding(written, at('price'), this.methodsState(), this.get(map, 'methods') !== undefined)
    const price = priceFound && 'problem' in priceFound ? undefined : written
    if (priceFound) this.found([priceFound])
    const description = this.section(
      routeFields.description,
      this.get(map, 'description'),
      at('description'),
      undefined,
    )
    const methods = this.routeMethods(map, at('methods'), price)
    const maxBodyBytes = this.section(
      routeFields.maxBodyBytes,
      this.get(map, 'maxBodyBytes'),
      at('maxBodyBytes'),
      DEFAULT_MAX_BODY_BYTES,
    )
    const splits = this.splits(map, at('splits'), price)
    const mode = this.section(routeFields.mode, this.get(map, 'mode'), at('mode'), undefined) ?? defaultMode
    const caseSensitive =
      this.section(routeFields.caseSensitive, this.get(map, 'caseSensitive'), at('caseSensitive'), undefined) ??
      defaultCaseSensitive
    if (this.section(routeFields.shadows, this.get(map, 'shadows'), at('shadows'), false)) shadowsOk.add(index)

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
    }
  }

  private methodsState(): MethodsState {
    return { configured: this.configuredMethods, disabled: this.disabled, example: this.example }
  }

  /** The findings of a check across parts: problems join the errors, notices the warnings. */
  private found(findings: readonly Finding[]): boolean {
    let ok = true
    for (const finding of findings) {
      if ('problem' in finding) ok = this.fail(finding.path, finding.problem) ?? false
      else this.notices.push({ path: finding.path, message: finding.notice })
    }
    return ok
  }

  /** The route's own `methods`, less the disabled ones; undefined: absent, or reported. */
  private routeMethods(map: Mapping, at: string, price: RoutePrice | undefined): string[] | undefined {
    const value = this.get(map, 'methods')
    if (value === undefined || value === REPORTED) return undefined
    if (price?.kind === 'free') return this.fail(at, 'not allowed on a free route')
    const names = this.section(routeFields.methods, value, at, undefined)
    if (!names || !this.found(routeMethodsFindings(names, at, this.methodsState()))) return undefined
    return names.filter((name) => !this.disabled.has(name))
  }

  private splits(map: Mapping, at: string, price: RoutePrice | undefined): RouteSplit[] | undefined {
    const value = this.get(map, 'splits')
    if (value === undefined || value === REPORTED) return undefined
    if (price?.kind === 'free') return this.fail(at, 'not allowed on a free route')
    const splits = this.section(routeFields.splits, value, at, undefined)
    const problem = splits && splitsProblem(price, splits)
    return problem ? this.fail(at, problem) : splits
  }
}
