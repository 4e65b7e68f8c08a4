import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import type { StoreCheck } from './store-check.js'
import type { WrkResult } from './wrk.js'

export interface PathRound extends WrkResult {
  /** peak RSS of the proxy's process tree during the run */
  readonly rssPeakMb?: number
  /** CPU time (user + system) of the proxy's process tree per request */
  readonly cpuUsPerRequest?: number
  /** the gateway's V8 heap right after the run */
  readonly heapUsedMb?: number
  readonly heapTotalMb?: number
  /** the payment stand-ins' own (server-side) time per paid request */
  readonly backendMsPerRequest?: number
  readonly backendCallsPerRequest?: number
}

export interface Summary {
  readonly label: string
  readonly rps: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly rssPeakMb?: number
  readonly cpuUsPerRequest?: number
  readonly backendMsPerRequest?: number
  readonly errors: number
  readonly rounds: PathRound[]
}

export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryGb: number
  readonly kernel: string
  readonly load: string
}

export interface Soak {
  date: string
  command: string
  machine: Machine & { loadBefore: string }
  route?: string
  minutes: number
  connections: number
  rps: number
  p50Ms: number
  p99Ms: number
  errors: number
  /** how long wrk ran (a paid soak could end early by running out of credentials) */
  seconds?: number
  samples: Array<{ atS: number; rssMb: number }>
}

export interface Results {
  main?: {
    date: string
    command: string
    machine: Machine & { loadBefore: string; loadAfter: string }
    versions: Record<string, string>
    settings: Record<string, unknown>
    notes: string[]
    /** at the configured connections */
    paths: Record<string, Summary>
    /** at one connection */
    single: Record<string, Summary>
  }
  /** free route */
  soak?: Soak
  /** every request a fresh Stripe payment */
  soakStripe?: Soak
  store?: StoreCheck & { date: string; command: string; machine: Machine & { loadBefore: string } }
}

const FILE = 'bench/results.json'

export function loadResults(root: string): Results {
  const file = join(root, FILE)
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Results) : {}
}

export function saveResults(root: string, results: Results): void {
  writeFileSync(join(root, FILE), `${JSON.stringify(results, null, 2)}\n`)
}

export function machineInfo(): Machine {
  let kernel = 'unknown'
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()
  } catch {
    // not Linux
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    kernel,
    load: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  }
}

const n = (value: number | undefined, digits = 0) =>
  value === undefined
    ? '–'
    : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const mark = (ok: boolean) => (ok ? 'met' : '**missed**')

function renderSoak(what: string, soak: Soak | undefined, how: string): string[] {
  if (!soak) return ['', `## Soak: ${what}`, '', `Not run yet: ${how}.`]
  // Only samples taken under load count (a paid soak can use up its credentials before the end).
  const loaded = soak.samples.filter((s) => soak.seconds === undefined || s.atS <= soak.seconds)
  const idle = soak.samples.length - loaded.length
  const early = loaded.filter((s) => s.atS >= 60 && s.atS < 120).map((s) => s.rssMb)
  const late = loaded.slice(-6).map((s) => s.rssMb)
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
  const growth = early.length && late.length ? (avg(late) - avg(early)) / avg(early) : NaN
  const max = Math.max(...loaded.map((s) => s.rssMb))
  return [
    '',
    `## Soak: ${idle ? `${n((soak.seconds ?? 0) / 60, 1)} of ${soak.minutes} planned` : soak.minutes} minutes at ${soak.connections} connections, ${what}`,
    '',
    `Run: \`${soak.command}\` on ${soak.date.slice(0, 16).replace('T', ' ')} UTC; load before ${soak.machine.loadBefore}. ${n(soak.rps)} req/s, p50 ${n(soak.p50Ms, 2)} ms, p99 ${n(soak.p99Ms, 2)} ms, ${soak.errors} errors${soak.seconds !== undefined ? `, ${n(soak.seconds)} s of load` : ''}.`,
    '',
    `RSS (MB) every 10 s: ${soak.samples.map((s) => n(s.rssMb)).join(' ')}.`,
    '',
    `Under load: second minute ${n(avg(early), 1)} MB, last minute ${n(avg(late), 1)} MB (${Number.isNaN(growth) ? '–' : `${n(growth * 100, 1)} %`}); max ${n(max)} MB.${idle ? ` The last ${idle} samples were taken after the load ended (credentials used up) and are not counted.` : ''} Target (under 150 MB and flat): ${mark(max < 150 && growth < 0.1)}.`,
  ]
}

/** BENCHMARKS.md, rendered from results.json (numbers only from a real run; nothing typed in by hand). */
export function renderMarkdown(results: Results, analysis?: string): string {
  const out: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` from bench/results.json; edit bench/lib/report.ts, not this file. -->',
    '',
  ]
  const main = results.main
  if (main) {
    const { paths, single } = main
    const direct = paths.direct?.rps
    out.push(
      `Run: \`${main.command}\` on ${main.date.slice(0, 16).replace('T', ' ')} UTC, gateway commit \`${main.versions['mpp-gateway']}\`.`,
      '',
      `Machine: ${main.machine.cpu}, ${main.machine.cores} cores, ${main.machine.memoryGb} GB, Linux ${main.machine.kernel}. Load average (1/5/15 min) before: ${main.machine.loadBefore}; after: ${main.machine.loadAfter}.`,
      `Versions: ${Object.entries(main.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
      '',
      `Method: wrk (${main.settings.wrk}, its own process), ${main.settings.connections} connections, ${main.settings.rounds} rounds of ${main.settings.seconds} s per path after a ${main.settings.warmupSeconds} s warm-up; odd rounds run the paths in reverse order (ABBA), so drift hits every path alike. Every path ends at the same small-JSON upstream (test/support/upstream.ts, one Node process). Numbers are means over rounds; RSS is the peak of the proxy's whole process tree during its runs. Paid paths: each request carries a fresh, valid credential made before timing (payer signing is not measured); a run ends when its credentials do. The Stripe and Tempo stand-ins and Redis run in their own processes on the same 2 cores.`,
      '',
    )
    for (const note of main.notes) out.push(`> ${note}`, '')
    out.push(
      `## Throughput and latency at ${main.settings.connections} connections`,
      '',
      '| path | req/s | × direct | p50 ms | p99 ms | RSS MB | proxy CPU µs/req | backend ms/req | errors |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    )
    for (const [, s] of Object.entries(paths)) {
      out.push(
        `| ${s.label} | ${n(s.rps)} | ${direct ? n(s.rps / direct, 2) : '–'} | ${n(s.p50Ms, 2)} | ${n(s.p99Ms, 2)} | ${n(s.rssPeakMb)} | ${n(s.cpuUsPerRequest)} | ${n(s.backendMsPerRequest, 2)} | ${s.errors} |`,
      )
    }
    out.push(
      '',
      'Per round (req/s): ' +
        Object.entries(paths)
          .map(([key, s]) => `${key} ${s.rounds.map((r) => n(r.rps)).join(' / ')}`)
          .join('; ') +
        '.',
      '',
    )
    out.push(
      '## Latency at one connection (no queueing)',
      '',
      '| path | req/s | p50 ms | p99 ms | backend ms/req |',
      '| --- | ---: | ---: | ---: | ---: |',
    )
    for (const [, s] of Object.entries(single))
      out.push(`| ${s.label} | ${n(s.rps)} | ${n(s.p50Ms, 3)} | ${n(s.p99Ms, 3)} | ${n(s.backendMsPerRequest, 3)} |`)
    out.push(
      '',
      '"backend ms/req" is the time the payment stand-ins themselves spent per paid request, measured inside them (request in to response out), summed over their calls.',
      '',
    )

    out.push('## Targets', '', '| target | measured | |', '| --- | --- | --- |')
    const free = paths['gateway-free']
    const nodeProxy = paths['node-proxy']
    const mppx = paths.mppx
    const nginx = paths.nginx
    const w2 = paths['gateway-free-w2']
    const undiciProxy = paths['undici-proxy']
    const baseline = paths['gateway-free-baseline']
    if (free && nodeProxy)
      out.push(
        `| free route ≥ 1.0× the node:http proxy | ${n(free.rps / nodeProxy.rps, 2)}× | ${mark(free.rps >= nodeProxy.rps)} |`,
      )
    if (free && mppx)
      out.push(`| free route ≥ 6× the mppx Proxy | ${n(free.rps / mppx.rps, 1)}× | ${mark(free.rps >= 6 * mppx.rps)} |`)
    if (free && undiciProxy)
      out.push(`| free route vs the undici Pool proxy (report) | ${n(free.rps / undiciProxy.rps, 2)}× | – |`)
    if (free && baseline) {
      // before/after on the same run: each build as a multiple of each reference
      const against = (of: Summary) =>
        [
          nodeProxy && `${n(of.rps / nodeProxy.rps, 2)}× node:http`,
          undiciProxy && `${n(of.rps / undiciProxy.rps, 2)}× undici`,
          mppx && `${n(of.rps / mppx.rps, 1)}× mppx`,
        ]
          .filter(Boolean)
          .join(', ')
      out.push(
        `| free route, before → after (report) | baseline ${n(baseline.rps)} req/s (${against(baseline)}) → this build ${n(free.rps)} req/s (${against(free)}): ${n(free.rps / baseline.rps, 2)}× | – |`,
      )
    }
    if (free && w2 && nginx) {
      const closed = (w2.rps - free.rps) / (nginx.rps - free.rps)
      out.push(
        `| workers: 2 vs nginx (report) | 1 worker ${n(free.rps / nginx.rps, 2)}× nginx, 2 workers ${n(w2.rps / nginx.rps, 2)}× nginx: ${n(closed * 100)} % of the gap closed | – |`,
      )
    }
    const freeSingle = single['gateway-free']
    for (const key of ['gateway-stripe', 'gateway-tempo-push', 'gateway-tempo-pull']) {
      const paid = single[key]
      if (!paid || !freeSingle) continue
      const budget = freeSingle.p50Ms + (paid.backendMsPerRequest ?? 0) + 1
      out.push(
        `| ${paid.label}: p50 ≤ free p50 + backend + 1 ms (one connection) | ${n(paid.p50Ms, 2)} ms vs ${n(freeSingle.p50Ms, 2)} + ${n(paid.backendMsPerRequest, 2)} + 1 = ${n(budget, 2)} ms | ${mark(paid.p50Ms <= budget)} |`,
      )
    }
    const rss = Math.max(
      ...['gateway-free', 'gateway-stripe', 'gateway-tempo-push', 'gateway-tempo-pull'].map(
        (k) => paths[k]?.rssPeakMb ?? 0,
      ),
    )
    out.push(
      `| gateway RSS < 150 MB at ${main.settings.connections} connections (one worker) | peak ${n(rss)} MB | ${mark(rss < 150)} |`,
    )
    if (w2?.rssPeakMb !== undefined) out.push(`| (workers: 2, primary + 2 workers) | peak ${n(w2.rssPeakMb)} MB | – |`)
  }
  out.push(...renderSoak('free route', results.soak, '`npm run bench -- --soak` (10 minutes)'))
  out.push(
    ...renderSoak(
      'paid route, a fresh Stripe payment per request',
      results.soakStripe,
      '`npm run bench -- --soak --soak-route stripe` (10 minutes)',
    ),
  )
  const store = results.store
  if (store) {
    out.push(
      '',
      `## Replay store: ${n(store.claims)} claims, ${store.concurrency} in flight`,
      '',
      `Run: \`${store.command}\` on ${store.date.slice(0, 16).replace('T', ' ')} UTC; load before ${store.machine.loadBefore}.`,
      '',
      '| store | claims/s | replays of a 1,000 sample refused |',
      '| --- | ---: | ---: |',
      `| Redis (SET NX PXAT, own redis-server) | ${n(store.redis.claimsPerSecond)} | ${store.redis.refusedReplays} |`,
      `| in-memory | ${n(store.memory.claimsPerSecond)} | ${store.memory.refusedReplays} |`,
      '',
      `In-memory store heap: ${n(store.memory.heapMb.before, 1)} MB before, ${n(store.memory.heapMb.live, 1)} MB holding ${n(store.memory.claimCount.live)} live claims, ${n(store.memory.heapMb.afterExpiry, 1)} MB once they expired and 10,000 more claims swept them (${n(store.memory.claimCount.afterExpiry)} left): bounded by live claims, not by claims ever made.`,
    )
  } else {
    out.push('', '## Replay store', '', 'Not run yet: `npm run bench -- --store`.')
  }
  if (analysis) out.push('', analysis.trim())
  return `${out.join('\n')}\n`
}
