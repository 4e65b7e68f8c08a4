import { randomBytes } from 'node:crypto'
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { restartOnlyLimitChanges } from '../config/limits.js'
import { loadConfig, type RuntimeOptions } from '../config/load.js'
import type { GatewayConfig } from '../config/types.js'
import { watchConfigFile } from '../config/watch.js'
import type { Logger } from '../log/logger.js'
import { createMetrics, type GatewayMetrics } from '../metrics/metrics.js'
import { createUpstream } from '../proxy/upstream.js'
import { countAll } from '../core/outcome.js'
import { createStore } from '../store/create.js'
import type { StoreBundle } from '../store/ports.js'
import type { BodyBudget } from '../http/body-budget.js'
import type { GatewayContext, Lifecycle } from '../http/context.js'
import { createBodyBudget } from '../http/body-budget.js'
import { createAdminListener } from '../http/admin.js'
import { type AdminServer, listeningUrl, startAdminServer } from '../http/admin-server.js'
import { buildPaymentParts, closeMethods, warnRandomSecret } from './payment-parts.js'
import { createGatewayListener } from '../http/gateway.js'

/** Large enough that a 16 KiB credential reaches the gateway and gets the protocol's own answer. */
const MAX_HEADER_BYTES = 32 * 1024

export type ReloadResult =
  | { readonly ok: true; readonly changed: boolean; readonly hash: string }
  | { readonly ok: false; readonly errors: readonly string[] }

export interface RunningGateway {
  readonly server: Server
  /** e.g. http://127.0.0.1:8402 */
  readonly url: string
  /** the admin listener (metrics, config), e.g. http://127.0.0.1:9402; undefined with `admin: false` */
  readonly adminUrl?: string
  readonly store: StoreBundle
  readonly metrics: GatewayMetrics
  /** the live config */
  config(): GatewayConfig
  /** Reads the config file again; swaps it in if valid, else keeps serving the old one. */
  reload(): Promise<ReloadResult>
  /**
   * Graceful stop: readiness fails at once, new connections are refused after `shutdown.grace`,
   * in-flight requests get up to `shutdown.timeout`, then everything is closed.
   */
  drain(): Promise<void>
  /** Immediate stop (tests, or after drain). */
  close(): Promise<void>
}

export interface StartOptions {
  readonly logger: Logger
  readonly now?: () => number
  /** sha-256 of the config file's text, from `loadConfig` */
  readonly hash?: string
  /** given to `loadConfig` again on every reload (the example API's URL, the sandbox) */
  readonly runtime?: RuntimeOptions
}

/** One loaded config and everything built from it; a reload builds the next one. */
interface Generation {
  readonly ctx: GatewayContext
  readonly listener: (incoming: IncomingMessage, outgoing: ServerResponse) => void
  inFlight: number
  retired: boolean
}

/** how often a replica looks for settlement records left unfinished */
const SWEEP_EVERY_MS = 15_000

interface Shared {
  readonly store: StoreBundle
  readonly logger: Logger
  readonly metrics: GatewayMetrics
  readonly lifecycle: Lifecycle
  readonly bodyBudget: BodyBudget
  readonly now: () => number
  /** used while the config sets no secretKey: kept across reloads so issued challenges survive */
  readonly fallbackSecret: string
  /** the payment method plugins (runtime.plugins; default methodPlugins) */
  readonly plugins?: RuntimeOptions['plugins']
}

/** Builds every part from a validated config and starts listening. */
export async function startGateway(config: GatewayConfig, options: StartOptions): Promise<RunningGateway> {
  const { logger } = options
  const store = createStore(config.store)
  if (config.store.url) logger.info('replay store', { store: store.description })
  else
    logger.warn('replay store: in-memory, single instance; set store.url to share single use across replicas', {
      store: store.description,
    })
  if (!config.secretKey) warnRandomSecret(logger)
  const shared: Shared = {
    store,
    logger,
    metrics: createMetrics(),
    lifecycle: { draining: false },
    bodyBudget: createBodyBudget(config.limits.bufferedBytes),
    now: options.now ?? Date.now,
    fallbackSecret: randomBytes(32).toString('base64url'),
    plugins: options.runtime?.plugins,
  }

  const first = buildGeneration(config, options.hash ?? '', shared)
  if (!first.ok) {
    await store.close()
    throw new Error(first.errors.join('\n'))
  }
  let current = first.generation
  const generations = new Set<Generation>([current])

  // The token can change on reload; the bind address only on restart.
  let adminToken = config.admin?.token
  let admin: AdminServer | undefined
  if (config.admin) {
    try {
      admin = await startAdminServer(
        config.admin,
        createAdminListener({ current: () => current.ctx, token: () => adminToken }),
      )
    } catch (error) {
      await Promise.all([...generations].map((g) => retireMethods(g)))
      await store.close()
      throw error
    }
  }

  const { limits } = config
  const serverOptions: http.ServerOptions = {
    maxHeaderSize: MAX_HEADER_BYTES,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // Node checks both timeouts only this often (30 s by default): a short timeout needs a short check.
    connectionsCheckingInterval: Math.min(30_000, Math.ceil(limits.headersTimeoutMs / 2)),
  }
  const server = http.createServer(serverOptions, (incoming, outgoing) => {
    // Each request stays on the config it started with; a reload affects only later requests.
    const generation = current
    generation.inFlight++
    outgoing.once('close', () => {
      generation.inFlight--
      if (generation.retired && generation.inFlight === 0) void retire(generation)
    })
    generation.listener(incoming, outgoing)
  })
  server.maxConnections = limits.maxConnections
  // Node closes a connection beyond maxConnections at once, before any byte is read.
  server.on('drop', () => shared.metrics.limitRefused('maxConnections'))
  try {
    await listen(server, config.listen.port, config.listen.host)
  } catch (error) {
    // Release what keeps the process alive (a Redis connection retries forever), so the CLI exits 1.
    await admin?.close()
    await retireMethods(current)
    await store.close()
    throw new Error(listenError(error as NodeJS.ErrnoException, config), { cause: error })
  }
  const url = listeningUrl(server)
  logger.info('gateway listening', {
    url,
    ...(admin ? { admin: admin.url } : {}),
    realm: config.realm,
    upstream: config.upstream.url.origin,
    routes: config.routes.length,
    methods: [...current.ctx.methods.keys()],
    configHash: options.hash,
  })

  async function retire(generation: Generation): Promise<void> {
    if (!generations.delete(generation)) return
    await retireMethods(generation)
  }

  let reloading: Promise<ReloadResult> | undefined
  async function reload(): Promise<ReloadResult> {
    // One reload at a time: a burst of file events must not race two swaps.
    reloading ??= reloadOnce().finally(() => {
      reloading = undefined
    })
    return reloading
  }

  async function reloadOnce(): Promise<ReloadResult> {
    const live = current.ctx
    const loaded = await loadConfig(live.config.file, { displayName: live.config.displayName, ...options.runtime })
    if (!loaded.ok) return reloadFailed(loaded.errors)
    if (loaded.hash === live.loaded.hash) return { ok: true, changed: false, hash: loaded.hash }
    for (const warning of loaded.warnings) logger.warn(warning)
    const next = buildGeneration(loaded.config, loaded.hash, shared)
    if (!next.ok) return reloadFailed(next.errors)
    for (const key of ['listen', 'store', 'workers'] as const) {
      if (JSON.stringify(loaded.config[key]) !== JSON.stringify(live.config[key]))
        logger.warn(`config reload: ${key} changes take effect only after a restart`)
    }
    for (const key of restartOnlyLimitChanges(live.config.limits, loaded.config.limits))
      logger.warn(`config reload: ${key} changes take effect only after a restart`)
    // A new token applies at once, but only to the address it was configured for: a reload must
    // never drop the token of a listener still bound where other machines reach it.
    const bound = (c: GatewayConfig) => (c.admin ? `${c.admin.host}:${c.admin.port}` : 'off')
    if (bound(loaded.config) === bound(config)) adminToken = loaded.config.admin?.token
    else logger.warn('config reload: admin changes other than the token take effect only after a restart')
    const previous = current
    generations.add(next.generation)
    current = next.generation
    previous.retired = true
    if (previous.inFlight === 0) void retire(previous)
    shared.metrics.configReload('success')
    logger.info('config reloaded', {
      hash: loaded.hash,
      routes: loaded.config.routes.length,
      methods: [...next.generation.ctx.methods.keys()],
    })
    return { ok: true, changed: true, hash: loaded.hash }
  }

  function reloadFailed(errors: readonly string[]): ReloadResult {
    shared.metrics.configReload('failure')
    logger.error('config reload failed; still serving the previous config', {
      configHash: current.ctx.loaded.hash,
      errors: errors.length,
    })
    for (const error of errors) logger.error(error)
    return { ok: false, errors }
  }

  const watcher = config.watch
    ? watchConfigFile(
        config.file,
        () => {
          void reload()
        },
        config.watchPollMs !== undefined ? { pollMs: config.watchPollMs } : {},
      )
    : undefined

  // Settlement records nobody came back for are reported (a log line and a counter), once each.
  const sweeper = setInterval(() => {
    current.ctx.core.sweep().then(
      (counts) => countAll(shared.metrics, counts),
      (error: unknown) => logger.warn('settlement sweep failed; the next one retries', { error }),
    )
  }, SWEEP_EVERY_MS)
  sweeper.unref()

  let closing: Promise<void> | undefined
  function close(): Promise<void> {
    closing ??= (async () => {
      clearInterval(sweeper)
      watcher?.close()
      await Promise.all([
        new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeIdleConnections()
          server.closeAllConnections()
        }),
        admin?.close(),
      ])
      await Promise.all([...generations].map(retire))
      await store.close()
    })()
    return closing
  }

  async function drain(): Promise<void> {
    const { graceMs, timeoutMs } = current.ctx.config.shutdown
    shared.lifecycle.draining = true
    watcher?.close()
    logger.info('draining: readiness now fails', { graceMs, timeoutMs })
    await sleep(graceMs)
    // No new connections; idle keep-alive ones go now, busy ones once their response is done.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    const finished = await Promise.race([closed.then(() => true), sleep(timeoutMs).then(() => false)])
    if (!finished)
      logger.warn('drain timeout: cutting the requests still in flight', {
        inFlight: [...generations].reduce((n, g) => n + g.inFlight, 0),
      })
    await close()
    logger.info('stopped')
  }

  return {
    server,
    url,
    ...(admin ? { adminUrl: admin.url } : {}),
    store,
    metrics: shared.metrics,
    config: () => current.ctx.config,
    reload,
    drain,
    close,
  }
}

function buildGeneration(
  config: GatewayConfig,
  hash: string,
  shared: Shared,
): { ok: true; generation: Generation } | { ok: false; errors: string[] } {
  const built = buildPaymentParts(config, shared)
  if (!built.ok) {
    void built.close()
    return { ok: false, errors: built.errors }
  }
  const { methods, offers, core } = built.parts
  const ctx: GatewayContext = {
    config,
    offers,
    methods,
    store: shared.store,
    core,
    upstream: createUpstream(config.upstream.url, config.upstream.timeoutMs, config.upstream.stripRequestHeaders),
    logger: shared.logger,
    metrics: shared.metrics,
    lifecycle: shared.lifecycle,
    bodyBudget: shared.bodyBudget,
    loaded: { hash, at: new Date(shared.now()).toISOString() },
  }
  return { ok: true, generation: { ctx, listener: createGatewayListener(ctx), inFlight: 0, retired: false } }
}

function retireMethods(generation: Generation): Promise<unknown> {
  generation.ctx.upstream.close()
  return closeMethods(generation.ctx.methods)
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

/** e.g. `gateway.config.yaml: listen: 127.0.0.1:8402 is already in use by another process` */
export function listenError(error: NodeJS.ErrnoException, config: GatewayConfig): string {
  const where = `${config.displayName}: listen: ${config.listen.host}:${config.listen.port}`
  if (error.code === 'EADDRINUSE')
    return `${where} is already in use by another process; stop it or choose another listen address`
  if (error.code === 'EACCES') return `${where}: permission denied (ports below 1024 need privileges)`
  if (error.code === 'EADDRNOTAVAIL') return `${where}: no local interface has this address`
  return `${where}: ${error.message}`
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
