import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Redis } from 'ioredis'
import { stringify } from 'yaml'
import { type FakeStripe, startFakeStripe } from '../src/sandbox/fake-stripe.js'
import { PATH_USD, startTempoNode, type TempoNode } from '../src/sandbox/tempo-node.js'
import { freePort, type RedisServer, startRedisServer } from '../test/support/redis-server.js'
import { accounts } from '../test/support/tempo-tx.js'
import { type ChaosUpstream, startChaosUpstream } from './upstream.js'

export const REALM = 'chaos.example.com'
/** Stripe refuses charges under $0.50 (minimum-charge.ts), so the one route costs that. */
export const PRICE = '0.50'
export const PRICE_CENTS = 50
export const PRICE_UNITS = 500_000n
export const PAID_PATH = '/v1/paid'
export const STRIPE_KEY = 'sk_test_chaos_0123456789'
/** The Tempo recipient: a fixed test key's address (funds nothing real). */
export const RECIPIENT = accounts.recipient.address
const SECRET = 'chaos-secret-key-0123456789-abcdefghijklmnop'

/** The timeouts the replicas run with; faults are sized against them. */
export const TIMEOUTS = { stripeMs: 1000, tempoMs: 1000, upstreamMs: 5000, challengeTtl: '10m' }

export interface Replica {
  readonly index: number
  readonly port: number
  readonly url: string
  readonly logFile: string
  alive(): boolean
  kill9(): void
  start(): Promise<void>
}

export interface Cluster {
  redis: RedisServer
  stripe: FakeStripe
  tempo: TempoNode
  upstream: ChaosUpstream
  replicas: Replica[]
  keyPrefix: string
  /** the ledger as it was just before each store wipe (the faults read it; a persisted Redis would have kept it) */
  ledgerBeforeWipes: Array<Record<string, string>>
  configFile: string
  config: Record<string, unknown>
  close(): Promise<void>
}

const CLI = resolve('dist/cli/main.js')

/** One private Redis (no persistence), the stand-ins in this process, and 3 replicas of the built CLI. */
export async function startCluster(replicaCount = 3): Promise<Cluster> {
  const redis = await startRedisServer()
  const stripe = await startFakeStripe()
  const tempo = await startTempoNode()
  const upstream = await startChaosUpstream()
  const keyPrefix = `chaos:${process.pid}:`
  const ports = await Promise.all(Array.from({ length: replicaCount }, () => freePort()))
  const dir = mkdtempSync(join(tmpdir(), 'mpp-chaos-'))
  const configFor = (port: number) => ({
    listen: `127.0.0.1:${port}`,
    realm: REALM,
    secretKey: SECRET,
    challengeTtl: TIMEOUTS.challengeTtl,
    currency: 'usd',
    upstream: { url: upstream.url, timeout: `${TIMEOUTS.upstreamMs}ms` },
    store: { url: redis.url, keyPrefix },
    methods: {
      stripe: {
        secretKey: STRIPE_KEY,
        networkId: 'profile_test',
        paymentMethodTypes: ['card'],
        apiBase: stripe.url,
        timeout: `${TIMEOUTS.stripeMs}ms`,
      },
      tempo: {
        rpcUrl: tempo.rpcUrl('gateway'),
        chainId: 42431,
        currency: PATH_USD,
        recipient: RECIPIENT,
        timeout: `${TIMEOUTS.tempoMs}ms`,
        modes: ['pull', 'push'],
      },
    },
    routes: [{ match: `GET ${PAID_PATH}`, price: PRICE }],
    log: { level: 'info' },
    watch: false,
    shutdown: { grace: '0s', timeout: '2s' },
    admin: false,
  })
  const replicas = ports.map((port, index) => {
    const file = join(dir, `replica-${index}.yaml`)
    writeFileSync(file, stringify(configFor(port)))
    return replicaOn(index, port, file, join(dir, `replica-${index}.log`))
  })
  await Promise.all(replicas.map((r) => r.start()))
  const children = replicas
  return {
    redis,
    stripe,
    tempo,
    upstream,
    replicas,
    keyPrefix,
    ledgerBeforeWipes: [],
    configFile: join(dir, 'replica-0.yaml'),
    config: configFor(ports[0]!),
    async close() {
      for (const r of children) r.kill9()
      await redis.stop()
      await upstream.close()
      await stripe.close()
      await tempo.close()
    },
  }
}

function replicaOn(index: number, port: number, configFile: string, logFile: string): Replica {
  let child: ChildProcess | undefined
  const url = `http://127.0.0.1:${port}`
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null
  return {
    index,
    port,
    url,
    logFile,
    alive,
    kill9: () => {
      if (alive()) child!.kill('SIGKILL')
    },
    async start() {
      // the log is appended, so one file holds every life of this replica (the sweeper's lines too)
      const out = openSync(logFile, 'a')
      child = spawn(process.execPath, [CLI, 'serve', '--config', configFile], { stdio: ['ignore', out, out] })
      const started = child
      const deadline = Date.now() + 20_000
      while (Date.now() < deadline) {
        if (started.exitCode !== null) throw new Error(`replica ${index} exited:\n${tail(logFile)}`)
        if (await answers(url)) return
        await new Promise((r) => setTimeout(r, 100))
      }
      throw new Error(`replica ${index} did not listen on ${port}:\n${tail(logFile)}`)
    },
  }
}

function answers(url: string): Promise<boolean> {
  return new Promise((done) => {
    const req = http.get(`${url}/__chaos_ready`, { agent: false, timeout: 1000 }, (res) => {
      res.resume()
      done(true)
    })
    req.on('error', () => done(false))
    req.on('timeout', () => req.destroy())
  })
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n')
  } catch {
    return ''
  }
}

/** Lines of every replica's log naming `text` (e.g. the sweeper's "settlement left unfinished"). */
export function logLines(replicas: readonly Replica[], text: string): string[] {
  return replicas.flatMap((r) => {
    try {
      return readFileSync(r.logFile, 'utf8')
        .split('\n')
        .filter((line) => line.includes(text))
    } catch {
      return []
    }
  })
}

/** The ledger stream's entries, oldest first, as flat records. */
export async function readLedger(cluster: Cluster): Promise<Array<Record<string, string>>> {
  const redis = new Redis(cluster.redis.url, { maxRetriesPerRequest: 1, lazyConnect: true })
  redis.on('error', () => {})
  try {
    await redis.connect()
    const rows = await redis.xrange(`${cluster.keyPrefix}ledger`, '-', '+')
    return rows.map(([, flat]) => {
      const entry: Record<string, string> = {}
      for (let i = 0; i + 1 < flat.length; i += 2) entry[flat[i]!] = flat[i + 1]!
      return entry
    })
  } finally {
    redis.disconnect()
  }
}
