import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { type RunningGateway, startGateway } from '../../src/server/server.js'
import { loadConfig } from '../../src/config/load.js'
import type { GatewayConfig } from '../../src/config/types.js'
import { createLogger } from '../../src/log/logger.js'
import type { MethodPlugin } from '../../src/methods/plugin.js'

export const TEST_SECRET = 'test-secret-key-0123456789-abcdefghijklmnop'
export const TEST_REALM = 'api.example.com'
export const STRIPE_TEST_KEY = 'sk_test_gateway_0123456789'

export const DEFAULT_ROUTES = [
  { match: 'GET /v1/models', price: 'free' },
  { match: 'POST /v1/chat/completions', price: '0.50', description: 'Chat completion' },
  { match: 'GET /v1/reports/:id', price: '1.25', methods: ['stripe'] },
  { match: 'GET /v1/cheap', price: '0.50' },
  { match: 'GET /v1/stream', price: '0.75' },
  { match: '* /public/*', price: 'free' },
]

export interface TestGatewayOptions {
  upstreamUrl: string
  stripeUrl?: string
  /** the `methods.tempo` block, as YAML would have it */
  tempo?: Record<string, unknown>
  /** omitted: the in-memory store */
  storeUrl?: string
  keyPrefix?: string
  routes?: unknown[]
  /** more top-level keys, merged over the defaults */
  extra?: Record<string, unknown>
  now?: () => number
  /** the payment method plugins, to register a test-only one (default: methodPlugins) */
  plugins?: readonly MethodPlugin[]
}

export interface TestGateway {
  url: string
  /** the admin listener: /__gateway/metrics and /__gateway/config */
  adminUrl: string
  config: GatewayConfig
  configFile: string
  logs: string[]
  gateway: RunningGateway
  close(): Promise<void>
}

/** Writes a YAML config like an operator would, loads it through the real loader, starts the gateway. */
export function writeTestConfig(options: TestGatewayOptions): string {
  const document: Record<string, unknown> = {
    listen: '127.0.0.1:0',
    realm: TEST_REALM,
    secretKey: TEST_SECRET,
    challengeTtl: '5m',
    currency: 'usd',
    upstream: { url: options.upstreamUrl, timeout: '2s' },
    ...(options.storeUrl
      ? {
          store: {
            url: options.storeUrl,
            keyPrefix: options.keyPrefix ?? `test:${process.pid}:${Date.now()}:${Math.random()}:`,
          },
        }
      : {}),
    methods: {
      ...(options.stripeUrl
        ? {
            stripe: {
              secretKey: STRIPE_TEST_KEY,
              networkId: 'profile_test',
              paymentMethodTypes: ['card'],
              apiBase: options.stripeUrl,
              timeout: '1s',
            },
          }
        : {}),
      ...(options.tempo ? { tempo: options.tempo } : {}),
    },
    routes: options.routes ?? DEFAULT_ROUTES,
    log: { level: 'debug' },
    // tests stop gateways all the time; the production grace would only slow them down
    shutdown: { grace: '0s', timeout: '5s' },
    // a free port per gateway: tests run many at once, and the default 9402 would collide
    admin: { listen: '127.0.0.1:0' },
    ...options.extra,
  }
  const dir = mkdtempSync(join(tmpdir(), 'mppgw-'))
  const file = join(dir, 'gateway.config.yaml')
  writeFileSync(file, stringify(document))
  return file
}

export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const configFile = writeTestConfig(options)
  const runtime = options.plugins ? { plugins: options.plugins } : {}
  const loaded = await loadConfig(configFile, runtime)
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'))
  const logs: string[] = []
  const logger = createLogger({ level: 'debug', write: (line) => logs.push(line) })
  const gateway = await startGateway(loaded.config, { logger, now: options.now, runtime })
  return {
    url: gateway.url,
    adminUrl: gateway.adminUrl ?? '',
    config: loaded.config,
    configFile,
    logs,
    gateway,
    close: () => gateway.close(),
  }
}
