import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { type Attempt, type ClientContext, type CredentialRun, present, replay } from './clients.js'
import { type Cluster, logLines, readLedger, startCluster } from './cluster.js'
import { type ChaosCredential, fetchChallenges, KINDS, makeCredential, otherSptFor } from './credentials.js'
import { FAULT_CYCLE, faultSchedule } from './faults.js'
import { type ChaosOptions, parseOptions, USAGE } from './options.js'
import { seededRandom } from './random.js'
import { type Evidence, reconcile, type Reconciliation } from './reconcile.js'
import { chaosMarkdown, failedGates, type RunInfo, summaryText } from './report.js'

const REPLAYS_AFTER_WIPE = 10
const REPLAYS_AT_END = 20

export interface ChaosResult {
  reconciliation: Reconciliation
  info: RunInfo
  summary: string
  markdown: string
  ok: boolean
}

/** The whole run: start the cluster, make credentials, present them under faults, reconcile, report. */
export async function runChaos(options: ChaosOptions, log: (line: string) => void = console.log): Promise<ChaosResult> {
  const startedAt = new Date()
  const rng = seededRandom(options.seed)
  const cluster = await startCluster(3)
  const stopOnExit = () => {
    for (const r of cluster.replicas) r.kill9()
    void cluster.redis.stop()
  }
  process.once('exit', stopOnExit)
  try {
    const included: Evidence['included'] = []
    cluster.tempo.onInclude((receipt) => included.push({ at: Date.now(), receipt }))

    log(`chaos: making ${options.credentials} credentials (seed ${options.seed})`)
    const made = Date.now()
    const credentials = await makeAll(cluster, options, rng)
    const makingMs = Date.now() - made

    const runs: CredentialRun[] = []
    const replays: Attempt[] = []
    const pendingReplays: Array<Promise<void>> = []
    const wipes: number[] = []
    // sized so the whole cycle runs even if every credential took one attempt; retries only bring faults sooner
    const interval = Math.max(10, Math.floor(options.credentials / (FAULT_CYCLE.length + 2)))
    let ctx: ClientContext
    const schedule = faultSchedule(cluster, rng, interval, {
      onStart: (name, at) => {
        if (name === 'redis-wipe') wipes.push(at)
      },
      onEnd: (fault) => {
        log(`chaos: fault ${fault.name} at attempt ${fault.atAttempt}: ${fault.detail}`)
        if (fault.name === 'redis-wipe') pendingReplays.push(replayServed(runs, ctx, rng, REPLAYS_AFTER_WIPE, replays))
      },
    })
    ctx = {
      replicas: cluster.replicas,
      rng,
      retryWindowMs: options.retryWindowMs,
      abortFraction: options.abortFraction,
      otherSptFraction: 0.3,
      onAttempt: () => schedule.onAttempt(),
      replace: async (credential, challenges) => {
        const fresh = challenges.length > 0 ? challenges : await fetchChallenges(cluster.replicas[0]!.url)
        const next = await makeCredential(`${credential.id}r`, credential.kind, fresh, cluster)
        return { ...next, replaces: credential.id }
      },
      otherSpt: (credential) => otherSptFor(credential, cluster),
      isStoreReset: (attempt) =>
        attempt.status === 402 &&
        /invalid-challenge$/.test(attempt.problemType ?? '') &&
        /reset/i.test(attempt.detail ?? '') &&
        wipes.some((w) => w < attempt.at + attempt.ms),
    }

    log(`chaos: presenting them, ${options.concurrency} at a time, a fault every ${interval} attempts`)
    const loadStart = Date.now()
    const queue = [...credentials]
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (queue.length > 0) {
          await schedule.gate()
          const next = queue.shift()
          if (next) await present(next, ctx, runs)
        }
      }),
    )
    await schedule.settle()
    await Promise.all(pendingReplays)
    await replayServed(runs, ctx, rng, REPLAYS_AT_END, replays)
    const loadMs = Date.now() - loadStart

    const evidence: Evidence = {
      runs,
      replays,
      hits: cluster.upstream.hits,
      paymentIntents: [...cluster.stripe.paymentIntents.values()],
      included,
      // what a wipe took (read just before it), what Redis refused to take (the gateways log each such entry
      // whole: the documented lasting record), then what the store holds now
      ledger: [...cluster.ledgerBeforeWipes, ...unwrittenEntries(cluster.replicas), ...(await readLedger(cluster))],
      wipes,
      faults: schedule.log,
      unfinishedLogLines: logLines(cluster.replicas, 'settlement left unfinished').length,
      isStoreReset: ctx.isStoreReset,
    }
    const reconciliation = reconcile(evidence)
    const info: RunInfo = {
      options,
      startedAt,
      loadStartedAt: loadStart,
      makingMs,
      loadMs,
      totalMs: Date.now() - startedAt.getTime(),
      config: redacted(cluster.config),
      faultInterval: interval,
      commit: commitOf(),
    }
    const summary = summaryText(reconciliation, info)
    const markdown = chaosMarkdown(reconciliation, info)
    return { reconciliation, info, summary, markdown, ok: failedGates(reconciliation).length === 0 }
  } finally {
    process.removeListener('exit', stopOnExit)
    await cluster.close()
  }
}

/** Pre-made credentials, kinds drawn from the seed; each from a 402 of a random replica. */
async function makeAll(cluster: Cluster, options: ChaosOptions, rng: ReturnType<typeof seededRandom>) {
  const plan = Array.from({ length: options.credentials }, (_, i) => ({
    id: `c${i}`,
    kind: rng.pick(KINDS),
    replica: rng.pick(cluster.replicas),
  }))
  const credentials: ChaosCredential[] = new Array(plan.length)
  let next = 0
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < plan.length) {
        const i = next++
        const { id, kind, replica } = plan[i]!
        credentials[i] = await makeCredential(id, kind, await fetchChallenges(replica.url), cluster)
      }
    }),
  )
  return credentials
}

/** Re-presents some served credentials once each: every one must be refused. */
async function replayServed(
  runs: readonly CredentialRun[],
  ctx: ClientContext,
  rng: ReturnType<typeof seededRandom>,
  count: number,
  into: Attempt[],
): Promise<void> {
  const served = runs.filter((r) => r.final === 'served')
  const picked = new Set<CredentialRun>()
  while (picked.size < Math.min(count, served.length)) picked.add(rng.pick(served))
  for (const run of picked) into.push(await replay(run, ctx))
}

/** Ledger entries a replica could not write, from its error lines (each carries the whole entry). */
function unwrittenEntries(replicas: Cluster['replicas']): Array<Record<string, string>> {
  return logLines(replicas, 'settled payment could not be written to the ledger').flatMap((line) => {
    try {
      const fields = JSON.parse(line) as Record<string, unknown>
      const entry: Record<string, string> = {}
      for (const key of [
        'challengeId',
        'state',
        'outcome',
        'upstreamStatus',
        'bytesSent',
        'bytesExpected',
        'reference',
      ])
        if (fields[key] !== undefined) entry[key] = String(fields[key])
      return [entry]
    } catch {
      return []
    }
  })
}

function redacted(config: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(config, (key, value) => (/secretKey|privateKey/i.test(key) ? '(elided)' : value)),
  ) as Record<string, unknown>
}

function commitOf(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE)
    return
  }
  let options: ChaosOptions
  try {
    options = parseOptions(process.argv.slice(2))
  } catch (error) {
    console.error((error as Error).message)
    process.exit(2)
  }
  // Ctrl-C: exit through 'exit', so the replicas and Redis started here are stopped
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))
  const result = await runChaos(options)
  console.log(result.summary)
  if (options.write) {
    writeFileSync('CHAOS.md', result.markdown)
    console.log('chaos: wrote CHAOS.md')
  }
  process.exit(result.ok ? 0 : 1)
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
