// `npm run bench`: every path to the same small-JSON upstream, measured with wrk in its own
// process, in alternating rounds; writes bench/results.json and renders BENCHMARKS.md from it.
//   npm run bench                          the comparison (about 6 minutes)
//   npm run bench -- --duration 3 --rounds 1   a quick look while developing
//   npm run bench -- --soak [--soak-minutes 10] [--soak-route free|stripe]   gateway RSS under load over time
//   npm run bench -- --store [--store-claims 1000000]   replay-store claims per second and memory
//   npm run bench -- --render   BENCHMARKS.md again from bench/results.json (after editing bench/analysis.md)
//   npm run bench -- --only gateway-free --profile DIR   CPU profiles of the gateway (see bench/profile-summary.ts)
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { stringify } from 'yaml'
import { freePort, startRedisServer } from '../test/support/redis-server.js'
import { type BackendBusy, type Backends, startBackends } from './lib/backends-client.js'
import { startNginx } from './lib/nginx.js'
import { ensureDebianPackage, forkServer, sampleRss, spawnQuiet, stopAll, waitForHttp } from './lib/processes.js'
import {
  type Results,
  loadResults,
  machineInfo,
  renderMarkdown,
  saveResults,
  type PathRound,
  type Summary,
} from './lib/report.js'
import { runStoreCheck } from './lib/store-check.js'
import { runWrk, type WrkResult } from './lib/wrk.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..')
const TSX = ['--import', 'tsx']

const { values: options } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '64' },
    only: { type: 'string' },
    soak: { type: 'boolean', default: false },
    'soak-minutes': { type: 'string', default: '10' },
    /** free, or stripe: every request a fresh Stripe payment (a leak on the paid path shows there) */
    'soak-route': { type: 'string', default: 'free' },
    store: { type: 'boolean', default: false },
    'store-claims': { type: 'string', default: '1000000' },
    'no-write': { type: 'boolean', default: false },
    /** only render BENCHMARKS.md again from bench/results.json and bench/analysis.md */
    render: { type: 'boolean', default: false },
    /** another build of the gateway (a checkout with dist/ built) measured beside this one, free route: before/after */
    baseline: { type: 'string' },
    /** V8/Node flags for the gateway processes, e.g. "--max-semi-space-size=8" */
    'gateway-node-flags': { type: 'string' },
    /** skip `npm run build` (run dist/ as it is) */
    'no-build': { type: 'boolean', default: false },
    /** a directory: the gateways run with --cpu-prof and write their profiles there on exit */
    profile: { type: 'string' },
  },
})
const seconds = Number(options.duration)
const warmupSeconds = Number(options.warmup)
const rounds = Number(options.rounds)
const connections = Number(options.connections)
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
const log = (line: string) => process.stdout.write(`${line}\n`)

type PaidKind = 'stripe' | 'tempo-push' | 'tempo-pull'
const CREDENTIAL_CAP: Record<PaidKind, number> = { stripe: 60_000, 'tempo-push': 4_000, 'tempo-pull': 20_000 }
interface Path {
  readonly key: string
  readonly label: string
  readonly url: string
  /** process whose RSS (with its children) is sampled during the run */
  readonly pid?: number
  readonly paid?: PaidKind
  /** also measured at one connection (latency without queueing) */
  readonly single?: boolean
}

async function main(): Promise<void> {
  if (options.render) return finish(loadResults(ROOT))
  const missingWrk = ensureDebianPackage('wrk', 'wrk')
  if (missingWrk) throw new Error(`${missingWrk}; the bench needs wrk as its load generator`)
  if (options.store) return storeMode()

  if (!options['no-build']) {
    log('building the gateway (npm run build) …')
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' })
  }
  const redis = await startRedisServer()
  // The bench ends with process.exit: take this Redis down with it.
  process.on('exit', () => void redis.stop())
  const { hello: upstream } = await forkServer<{ url: string }>(join(HERE, 'servers/upstream.ts'), {}, TSX)
  log(`upstream ${upstream.url}, redis ${redis.url}`)
  if (options.soak) return soakMode(upstream.url, redis.url)

  const want = (key: string) => !options.only || options.only.split(',').includes(key)
  const backends = await startBackends(join(HERE, 'servers/backends.ts'), TSX)
  const nodeProxy = want('node-proxy')
    ? await forkServer<{ url: string }>(join(HERE, 'servers/node-proxy.mjs'), {
        UPSTREAM_URL: upstream.url,
        PORT: String(await freePort()),
      })
    : undefined
  const undiciProxy = want('undici-proxy')
    ? await forkServer<{ url: string }>(join(HERE, 'servers/undici-proxy.mjs'), {
        UPSTREAM_URL: upstream.url,
        PORT: String(await freePort()),
      })
    : undefined
  // mppx logs every request a client aborts (wrk does at the end of each run): its stderr is dropped.
  const mppx = want('mppx')
    ? await forkServer<{ url: string }>(
        join(HERE, 'servers/mppx-proxy.mjs'),
        { UPSTREAM_URL: upstream.url, PORT: String(await freePort()) },
        [],
        'ignore',
      )
    : undefined
  const nginx = want('nginx') ? await startNginx(upstream.url) : undefined
  const notes: string[] = []
  if (nginx && !nginx.ok) {
    notes.push(`nginx skipped: ${nginx.reason}`)
    log(`NOTE: nginx skipped: ${nginx.reason}`)
  }
  const gw = await startGatewayProcess({ upstreamUrl: upstream.url, redisUrl: redis.url, backends, workers: 1 })
  const base = options.baseline
    ? await startGatewayProcess({ upstreamUrl: upstream.url, redisUrl: redis.url, workers: 1, root: options.baseline })
    : undefined
  const gw2 = want('gateway-free-w2')
    ? await startGatewayProcess({ upstreamUrl: upstream.url, redisUrl: redis.url, backends, workers: 2 })
    : undefined

  const paths: Path[] = [
    { key: 'direct', label: 'upstream directly', url: `${upstream.url}/v1/models`, single: true },
    ...(nodeProxy
      ? [
          {
            key: 'node-proxy',
            label: 'node:http proxy (12 lines)',
            url: `${nodeProxy.hello.url}/v1/models`,
            pid: nodeProxy.child.pid,
            single: true,
          },
        ]
      : []),
    ...(undiciProxy
      ? [
          {
            key: 'undici-proxy',
            label: 'undici Pool proxy (12 lines)',
            url: `${undiciProxy.hello.url}/v1/models`,
            pid: undiciProxy.child.pid,
            single: true,
          },
        ]
      : []),
    ...(nginx?.ok
      ? [
          {
            key: 'nginx',
            label: `nginx ${nginx.version} proxy_pass, keep-alive, ${nginx.workers} workers`,
            url: `${nginx.url}/v1/models`,
            pid: nginx.pid,
          },
        ]
      : []),
    ...(mppx
      ? [
          {
            key: 'mppx',
            label: 'mppx Proxy 0.11, free route',
            url: `${mppx.hello.url}/api/v1/models`,
            pid: mppx.child.pid,
          },
        ]
      : []),
    {
      key: 'gateway-free',
      label: 'mpp-gateway, free route',
      url: `${gw.url}/v1/models`,
      pid: gw.pid,
      metricsUrl: gw.metricsUrl,
      single: true,
    },
    ...(base
      ? [
          {
            key: 'gateway-free-baseline',
            label: `mpp-gateway at ${options.baseline}, free route`,
            url: `${base.url}/v1/models`,
            pid: base.pid,
            metricsUrl: base.metricsUrl,
            single: true,
          },
        ]
      : []),
    ...(gw2
      ? [
          {
            key: 'gateway-free-w2',
            label: 'mpp-gateway, free route, workers: 2',
            url: `${gw2.url}/v1/models`,
            pid: gw2.pid,
          },
        ]
      : []),
    {
      key: 'gateway-stripe',
      label: 'mpp-gateway, paid: Stripe (fake), Redis',
      url: `${gw.url}/v1/paid/stripe`,
      pid: gw.pid,
      metricsUrl: gw.metricsUrl,
      paid: 'stripe' as const,
      single: true,
    },
    {
      key: 'gateway-tempo-push',
      label: 'mpp-gateway, paid: Tempo push (stand-in), Redis',
      url: `${gw.url}/v1/paid/tempo`,
      pid: gw.pid,
      metricsUrl: gw.metricsUrl,
      paid: 'tempo-push' as const,
      single: true,
    },
    {
      key: 'gateway-tempo-pull',
      label: 'mpp-gateway, paid: Tempo pull (stand-in), Redis',
      url: `${gw.url}/v1/paid/tempo`,
      pid: gw.pid,
      metricsUrl: gw.metricsUrl,
      paid: 'tempo-pull' as const,
      single: true,
    },
  ].filter((p) => want(p.key) || p.key === 'gateway-free-baseline')

  const loadBefore = machineInfo().load
  log(`load average before: ${loadBefore}`)
  const runs: Record<string, PathRound[]> = {}
  const singles: Record<string, PathRound[]> = {}
  // Paid paths run out of credentials rather than time: size each file from the last rate seen.
  const lastRps = new Map<string, number>()
  const tmp = mkdtempSync(join(tmpdir(), 'mppgw-bench-'))

  async function measure(path: Path, conns: number, duration: number, warm: boolean): Promise<PathRound> {
    let credentials: string | undefined
    const credentialFile = async (count: number) => {
      const file = join(tmp, `${path.key}-${conns}.txt`)
      await backends.credentials({
        kind: path.paid!,
        count,
        file,
        challengeLine: await challengeLine(path.url),
        secretKey: gw.secretKey,
        realm: gw.realm,
      })
      return file
    }
    if (warm) {
      if (path.paid)
        credentials = await credentialFile(
          Math.min(500, Math.max(200, Math.round((lastRps.get(`${path.key}:${conns}`) ?? 500) * warmupSeconds))),
        )
      await backends.busy()
      const warmed = paidTiming(
        path,
        await runWrk({ url: path.url, connections: conns, seconds: warmupSeconds, credentials }),
        await backends.busy(),
      )
      if (!lastRps.has(`${path.key}:${conns}`)) lastRps.set(`${path.key}:${conns}`, warmed.rps)
    }
    if (path.paid) {
      const expected = (lastRps.get(`${path.key}:${conns}`) ?? 500) * duration * 1.25
      // A push credential is a transaction the stand-in has already included (it recovers each
      // signer, milliseconds apiece), so push runs are shorter: a run's rate needs only a few seconds.
      credentials = await credentialFile(Math.min(Math.max(500, Math.round(expected)), CREDENTIAL_CAP[path.paid]))
    }
    await backends.busy() // resets the counters
    const stopRss = path.pid ? sampleRss(path.pid) : undefined
    const measured: WrkResult = await runWrk({ url: path.url, connections: conns, seconds: duration, credentials })
    const rss = stopRss?.()
    const heap =
      'metricsUrl' in path && typeof path.metricsUrl === 'string' ? await gatewayHeap(path.metricsUrl) : undefined
    const busy = await backends.busy()
    const result = paidTiming(path, measured, busy)
    lastRps.set(`${path.key}:${conns}`, result.rps)
    const backend = path.paid === undefined ? undefined : path.paid === 'stripe' ? busy.stripe : busy.tempo
    const round: PathRound = {
      ...result,
      ...(rss ? { rssPeakMb: rss.peakMb, cpuUsPerRequest: (rss.cpuMs * 1000) / Math.max(1, result.requests) } : {}),
      ...(heap ? { heapUsedMb: heap.usedMb, heapTotalMb: heap.totalMb } : {}),
      ...(backend && result.requests > 0
        ? { backendMsPerRequest: backend.ms / result.requests, backendCallsPerRequest: backend.calls / result.requests }
        : {}),
    }
    log(
      `  ${path.key.padEnd(20)} c=${String(conns).padEnd(3)} ${result.rps.toFixed(0).padStart(7)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms` +
        `${rss ? `  rss ${rss.peakMb.toFixed(0)} MB  cpu ${round.cpuUsPerRequest!.toFixed(0)} µs/req` : ''}${heap ? `  heap ${heap.usedMb.toFixed(0)}/${heap.totalMb.toFixed(0)} MB` : ''}${round.backendMsPerRequest !== undefined ? `  backend ${round.backendMsPerRequest.toFixed(2)} ms/req` : ''}` +
        `${result.errors ? `  ERRORS ${result.errors} (non-2xx ${result.non2xx})` : ''}${path.paid ? `  (${result.seconds.toFixed(1)} s)` : ''}`,
    )
    return round
  }

  /**
   * wrk divides by its whole duration even when a paid run stopped early for want of credentials;
   * such a run is timed instead from the first to the last payment the stand-in saw.
   */
  function paidTiming(path: Path, result: WrkResult, busy: BackendBusy): WrkResult {
    if (!path.paid) return result
    const backend = path.paid === 'stripe' ? busy.stripe : busy.tempo
    if (backend.calls === 0 || backend.lastAt <= backend.firstAt) return result
    // one payment's own latency before the first call and after the last is not in the window
    const seconds = Math.min(result.seconds, (backend.lastAt - backend.firstAt) / 1000 + result.p50Ms / 1000)
    return { ...result, seconds, rps: result.requests / seconds }
  }

  for (let round = 0; round < rounds; round++) {
    // ABAB…: every other round runs the paths in reverse, so drift hits all of them alike.
    const order = round % 2 === 0 ? paths : [...paths].reverse()
    log(`round ${round + 1}/${rounds} (${order.map((p) => p.key).join(' → ')})`)
    for (const path of order) (runs[path.key] ??= []).push(await measure(path, connections, seconds, true))
    for (const path of order.filter((p) => p.single))
      (singles[path.key] ??= []).push(await measure(path, 1, Math.max(2, Math.round(seconds / 2)), round === 0))
  }
  const loadAfter = machineInfo().load

  const summarize = (rows: Record<string, PathRound[]>): Record<string, Summary> =>
    Object.fromEntries(
      paths
        .filter((p) => rows[p.key])
        .map((p) => {
          const list = rows[p.key]!
          const mean = (f: (r: PathRound) => number | undefined) => {
            const values = list.map(f).filter((v): v is number => v !== undefined)
            return values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined
          }
          return [
            p.key,
            {
              label: p.label,
              rps: mean((r) => r.rps)!,
              p50Ms: mean((r) => r.p50Ms)!,
              p99Ms: mean((r) => r.p99Ms)!,
              rssPeakMb: list.some((r) => r.rssPeakMb !== undefined)
                ? Math.max(...list.map((r) => r.rssPeakMb ?? 0))
                : undefined,
              cpuUsPerRequest: mean((r) => r.cpuUsPerRequest),
              backendMsPerRequest: mean((r) => r.backendMsPerRequest),
              errors: list.reduce((n, r) => n + r.errors, 0),
              rounds: list,
            },
          ]
        }),
    )

  const results = loadResults(ROOT)
  results.main = {
    date: new Date().toISOString(),
    command,
    machine: { ...machineInfo(), loadBefore, loadAfter },
    versions: { ...versions(), ...(nginx?.ok ? { nginx: nginx.version } : {}) },
    settings: {
      connections,
      seconds,
      warmupSeconds,
      rounds,
      wrk: '1 thread',
      logs: 'gateway request log (info) to /dev/null',
    },
    notes,
    paths: summarize(runs),
    single: summarize(singles),
  }
  await finish(results)
}

async function soakMode(upstreamUrl: string, redisUrl: string): Promise<void> {
  const minutes = Number(options['soak-minutes'])
  const route = options['soak-route']
  if (route !== 'free' && route !== 'stripe') throw new Error(`--soak-route must be free or stripe (got ${route})`)
  const backends = route === 'stripe' ? await startBackends(join(HERE, 'servers/backends.ts'), TSX) : undefined
  const gw = await startGatewayProcess({ upstreamUrl, redisUrl, backends, workers: 1 })
  const url = `${gw.url}${route === 'stripe' ? '/v1/paid/stripe' : '/v1/models'}`
  let credentials: string | undefined
  if (backends) {
    // More than the route can take in the time: the run ends by time, not by running out.
    const count = Math.round(minutes * 60 * 1500)
    log(`soak: making ${count} Stripe credentials …`)
    credentials = join(mkdtempSync(join(tmpdir(), 'mppgw-bench-')), 'soak-stripe.txt')
    await backends.credentials({
      kind: 'stripe',
      count,
      file: credentials,
      challengeLine: await challengeLine(url),
      secretKey: gw.secretKey,
      realm: gw.realm,
    })
  }
  log(`soak: ${minutes} min on ${url}, ${connections} connections; RSS every 10 s`)
  const loadBefore = machineInfo().load
  const samples: Array<{ atS: number; rssMb: number }> = []
  const started = Date.now()
  const timer = setInterval(() => {
    const sample = { atS: Math.round((Date.now() - started) / 1000), rssMb: sampleRss(gw.pid)().lastMb }
    samples.push(sample)
    if (sample.atS % 60 < 10) log(`  ${sample.atS} s: ${sample.rssMb.toFixed(1)} MB`)
  }, 10_000)
  await backends?.busy()
  const measured = await runWrk({ url, connections, seconds: minutes * 60, credentials })
  clearInterval(timer)
  // a paid soak that ran out of credentials: its rate over the time payments happened
  const stripe = backends ? (await backends.busy()).stripe : undefined
  const loadSeconds =
    stripe && stripe.lastAt > stripe.firstAt
      ? Math.min(measured.seconds, (stripe.lastAt - stripe.firstAt) / 1000)
      : measured.seconds
  const result = { ...measured, seconds: loadSeconds, rps: measured.requests / loadSeconds }
  const results = loadResults(ROOT)
  const soak = {
    date: new Date().toISOString(),
    command,
    machine: { ...machineInfo(), loadBefore },
    route,
    minutes,
    connections,
    rps: result.rps,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    errors: result.errors,
    seconds: result.seconds,
    samples,
  }
  if (route === 'stripe') results.soakStripe = soak
  else results.soak = soak
  await finish(results)
}

async function storeMode(): Promise<void> {
  const redis = await startRedisServer()
  const loadBefore = machineInfo().load
  const store = await runStoreCheck({ redisUrl: redis.url, claims: Number(options['store-claims']), log })
  const results = loadResults(ROOT)
  results.store = { date: new Date().toISOString(), command, machine: { ...machineInfo(), loadBefore }, ...store }
  await redis.stop()
  await finish(results)
}

const gateways: Array<() => Promise<void>> = []

async function finish(results: Results): Promise<void> {
  if (options['no-write']) {
    log(JSON.stringify(results, null, 2))
  } else {
    saveResults(ROOT, results)
    // The analysis (what costs the time, what would remove it) is written by hand in bench/analysis.md.
    const analysisFile = join(HERE, 'analysis.md')
    writeFileSync(
      join(ROOT, 'BENCHMARKS.md'),
      renderMarkdown(results, existsSync(analysisFile) ? readFileSync(analysisFile, 'utf8') : undefined),
    )
    log('wrote BENCHMARKS.md and bench/results.json')
  }
  await Promise.all(gateways.map((stop) => stop()))
  stopAll()
  process.exit(0)
}

interface GatewayProcess {
  readonly url: string
  /** where its metrics are: the admin port (a --baseline checkout from before it: the public one) */
  readonly metricsUrl: string
  readonly pid: number
  readonly secretKey: string
  readonly realm: string
}

async function startGatewayProcess(o: {
  upstreamUrl: string
  redisUrl: string
  backends?: Backends
  workers: number
  root?: string
}): Promise<GatewayProcess> {
  const port = await freePort()
  const adminPort = o.root ? undefined : await freePort()
  const secretKey = randomBytes(32).toString('base64')
  const realm = 'bench.mpp-gateway.local'
  const document = {
    listen: `127.0.0.1:${port}`,
    ...(adminPort ? { admin: { listen: `127.0.0.1:${adminPort}` } } : {}),
    realm,
    secretKey,
    challengeTtl: '30m',
    upstream: { url: o.upstreamUrl },
    store: { url: o.redisUrl, keyPrefix: `bench:${port}:` },
    ...(o.workers > 1 ? { workers: o.workers } : {}),
    watch: false,
    ...(process.env.BENCH_LOG_LEVEL ? { log: { level: process.env.BENCH_LOG_LEVEL } } : {}),
    shutdown: { grace: '0s', timeout: '5s' },
    methods: o.backends
      ? {
          stripe: { secretKey: 'sk_test_bench_0123456789', networkId: 'profile_bench', apiBase: o.backends.stripeUrl },
          tempo: {
            recipient: o.backends.recipient,
            rpcUrl: o.backends.tempoRpcUrl,
            chainId: 42431,
            currency: o.backends.pathUsd,
            modes: ['pull', 'push'],
          },
        }
      : {},
    routes: [
      { match: 'GET /v1/models', price: 'free' },
      ...(o.backends
        ? [
            { match: 'GET /v1/paid/stripe', price: '0.50', methods: ['stripe'] },
            { match: 'GET /v1/paid/tempo', price: '0.50', methods: ['tempo'] },
          ]
        : []),
    ],
  }
  const dir = mkdtempSync(join(tmpdir(), 'mppgw-bench-gw-'))
  const file = join(dir, 'gateway.config.yaml')
  writeFileSync(file, stringify(document))
  const profile = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${options.profile}`] : []
  const flags = options['gateway-node-flags']?.split(' ').filter(Boolean) ?? []
  const child = spawnQuiet(process.execPath, [
    ...flags,
    ...profile,
    join(o.root ?? ROOT, 'dist/cli/main.js'),
    'serve',
    '--config',
    file,
  ])
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/__gateway/healthz`)
  // SIGTERM drains and exits 0, which is when a --cpu-prof profile is written.
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  gateways.push(() => {
    child.kill('SIGTERM')
    return exited
  })
  return { url, metricsUrl: adminPort ? `http://127.0.0.1:${adminPort}` : url, pid: child.pid!, secretKey, realm }
}

/** The gateway's V8 heap (used, total) right after a run, from its own metrics endpoint. */
async function gatewayHeap(metricsUrl: string): Promise<{ usedMb: number; totalMb: number } | undefined> {
  try {
    const text = await (await fetch(new URL('/__gateway/metrics', metricsUrl))).text()
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1]) / 2 ** 20
    return { usedMb: value('nodejs_heap_size_used_bytes'), totalMb: value('nodejs_heap_size_total_bytes') }
  } catch {
    return undefined
  }
}

/** The route's 402 challenge line: the template the payer's credentials are minted from. */
async function challengeLine(url: string): Promise<string> {
  const response = await fetch(url)
  await response.arrayBuffer()
  const line = response.headers.get('www-authenticate')
  if (response.status !== 402 || !line)
    throw new Error(`expected a 402 with a challenge from ${url}, got ${response.status}`)
  return line
}

function versions(): Record<string, string> {
  const read = (name: string) => {
    try {
      return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
        .version
    } catch {
      return 'unknown'
    }
  }
  const wrk = (() => {
    try {
      return execFileSync('sh', ['-c', 'wrk -v 2>&1 | head -1'], { encoding: 'utf8' }).trim()
    } catch {
      return 'unknown'
    }
  })()
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    } catch {
      return 'unknown'
    }
  })()
  return {
    node: process.version,
    'mpp-gateway': commit,
    mppx: read('mppx'),
    hono: read('hono'),
    wrk,
    redis:
      execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).split(' ')[2]?.replace('v=', '') ?? 'unknown',
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`)
  stopAll()
  process.exit(1)
})
