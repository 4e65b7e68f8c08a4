import { randomBytes } from 'node:crypto'
import http, { type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { GatewayConfig } from '../config/types.js'
import type { Logger } from '../log/logger.js'
import { resolveOffers } from '../methods/offers.js'
import { createMethods } from '../methods/registry.js'
import { createUpstream } from '../proxy/upstream.js'
import { createStore } from '../store/create.js'
import type { ReplayStore } from '../store/types.js'
import type { GatewayContext } from './context.js'
import { createGatewayListener } from './gateway.js'

/** Large enough that a 16 KiB credential reaches the gateway and gets the protocol's own answer. */
const MAX_HEADER_BYTES = 32 * 1024

export interface RunningGateway {
  readonly server: Server
  /** e.g. http://127.0.0.1:8402 */
  readonly url: string
  readonly store: ReplayStore
  close(): Promise<void>
}

export interface StartOptions {
  readonly logger: Logger
  readonly now?: () => number
}

/** Builds every part from a validated config and starts listening. */
export async function startGateway(config: GatewayConfig, options: StartOptions): Promise<RunningGateway> {
  const { logger } = options
  const methods = createMethods(config)
  const { table, errors } = resolveOffers(config, methods)
  if (errors.length > 0) throw new Error(errors.join('\n'))

  const secretKey = config.secretKey ?? randomSecret(logger)
  const store = createStore(config.store)
  if (config.store.url) logger.info('replay store', { store: store.description })
  else logger.warn('replay store: in-memory, single instance; set store.url to share single use across replicas', { store: store.description })

  const upstream = createUpstream(config.upstream.url, config.upstream.timeoutMs)
  const ctx: GatewayContext = {
    config,
    offers: table,
    methods,
    store,
    upstream,
    logger,
    secretKeys: [secretKey, ...config.previousSecretKeys],
    now: options.now ?? Date.now,
  }
  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES, keepAliveTimeout: 65_000 }, createGatewayListener(ctx))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.listen.port, config.listen.host, () => resolve())
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`
  logger.info('gateway listening', { url, realm: config.realm, upstream: config.upstream.url.origin, routes: config.routes.length, methods: [...methods.keys()] })

  return {
    server,
    url,
    store,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      })
      upstream.close()
      await Promise.all([store.close(), ...[...methods.values()].map((m) => m.close?.())])
    },
  }
}

function randomSecret(logger: Logger): string {
  logger.warn(
    'no secretKey configured: using a random challenge key. Challenges die on restart and cannot be verified by other replicas; set secretKey (openssl rand -base64 32).',
  )
  return randomBytes(32).toString('base64url')
}
