import type { Cluster } from './cluster.js'
import { readLedger, TIMEOUTS } from './cluster.js'
import type { Random } from './random.js'

export type FaultName =
  | 'redis-stall'
  | 'stripe-slow'
  | 'replica-kill'
  | 'tempo-lost-answer'
  | 'stripe-500'
  | 'tempo-stall'
  | 'tempo-lost-broadcast-answer'
  | 'redis-wipe'

/** The cycle the schedule walks through; the store wipe comes last, so most credentials meet the others first. */
export const FAULT_CYCLE: readonly FaultName[] = [
  'redis-stall',
  'stripe-slow',
  'replica-kill',
  'tempo-lost-answer',
  'stripe-500',
  'tempo-stall',
  'tempo-lost-broadcast-answer',
  'redis-wipe',
]

export interface FaultRecord {
  name: FaultName
  /** false when the injection itself failed (the detail says why) */
  injected: boolean
  detail: string
  /** the HTTP attempt count when it was injected */
  atAttempt: number
  start: number
  end: number
}

const STALL_MS = 3000
const SLOW_MS = TIMEOUTS.stripeMs + 500
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Injects one fault and resolves once it is over (the backend healthy again). */
async function inject(name: FaultName, cluster: Cluster, rng: Random): Promise<string> {
  switch (name) {
    case 'redis-stall':
      cluster.redis.pause()
      await sleep(STALL_MS)
      cluster.redis.resume()
      return `Redis SIGSTOP for ${STALL_MS} ms, then SIGCONT`
    case 'redis-wipe':
      cluster.ledgerBeforeWipes.push(...(await readLedger(cluster)))
      await cluster.redis.restart()
      return 'Redis SIGKILL, restarted empty (no persistence)'
    case 'stripe-slow':
      cluster.stripe.faults.delayMs = SLOW_MS
      await sleep(STALL_MS)
      cluster.stripe.faults.delayMs = 0
      return `fake Stripe answers after ${SLOW_MS} ms (timeout ${TIMEOUTS.stripeMs} ms) for ${STALL_MS} ms; it still executes`
    case 'stripe-500': {
      const count = 8
      cluster.stripe.faults.status500Next = count
      await until(() => cluster.stripe.faults.status500Next === 0, 5000)
      const left = cluster.stripe.faults.status500Next
      cluster.stripe.faults.status500Next = 0
      return `fake Stripe answers the next ${count} calls with 500 (${count - left} used)`
    }
    case 'tempo-stall':
      cluster.tempo.faults.delayMs = SLOW_MS
      await sleep(STALL_MS)
      cluster.tempo.faults.delayMs = 0
      return `Tempo RPC answers after ${SLOW_MS} ms (timeout ${TIMEOUTS.tempoMs} ms) for ${STALL_MS} ms`
    case 'tempo-lost-answer':
    case 'tempo-lost-broadcast-answer': {
      const count = 4
      const methods = name === 'tempo-lost-answer' ? [] : ['eth_sendRawTransactionSync']
      cluster.tempo.faults.loseAnswerMethods = methods
      cluster.tempo.faults.loseAnswerNext = count
      await until(() => cluster.tempo.faults.loseAnswerNext === 0, 5000)
      const left = cluster.tempo.faults.loseAnswerNext
      cluster.tempo.faults.loseAnswerNext = 0
      cluster.tempo.faults.loseAnswerMethods = []
      return `Tempo RPC runs then drops the answer of the next ${count} ${methods.length ? methods.join(', ') : 'calls (any method)'} (${count - left} used)`
    }
    case 'replica-kill': {
      const live = cluster.replicas.filter((r) => r.alive())
      const victim = rng.pick(live.length > 0 ? live : cluster.replicas)
      victim.kill9()
      await sleep(500)
      await victim.start()
      return `replica ${victim.index} (port ${victim.port}) killed with -9, restarted on the same port`
    }
  }
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition() && Date.now() < deadline) await sleep(50)
}

/**
 * Every `interval` HTTP attempts, counted from the previous fault's start, the next fault of the
 * cycle, never two at once. `gate()` holds fresh credentials while a fault is due but the previous
 * one is still under way, so a fast load cannot finish before the schedule has run. The hooks let
 * the run note a store wipe and re-present used credentials to the emptied store.
 */
export function faultSchedule(
  cluster: Cluster,
  rng: Random,
  interval: number,
  hooks: { onStart(name: FaultName, at: number): void; onEnd(f: FaultRecord): void },
) {
  const log: FaultRecord[] = []
  let attempts = 0
  let nextAt = interval
  let running: Promise<void> | undefined
  let index = 0
  const fire = () => {
    const name = FAULT_CYCLE[index++ % FAULT_CYCLE.length]!
    const start = Date.now()
    const atAttempt = attempts
    nextAt = atAttempt + interval
    hooks.onStart(name, start)
    running = inject(name, cluster, rng)
      .then((detail) => {
        const record = { name, injected: true, detail, atAttempt, start, end: Date.now() }
        log.push(record)
        hooks.onEnd(record)
      })
      .catch((error: unknown) => {
        log.push({
          name,
          injected: false,
          detail: `failed to inject: ${String(error)}`,
          atAttempt,
          start,
          end: Date.now(),
        })
      })
      .finally(() => {
        running = undefined
        if (attempts >= nextAt) fire()
      })
  }
  return {
    log,
    onAttempt() {
      attempts++
      if (!running && attempts >= nextAt) fire()
    },
    /** resolves when a new credential may start */
    async gate(): Promise<void> {
      while (running && attempts >= nextAt) await running
    },
    /** waits for a fault still under way (the run does not end mid-fault) */
    async settle(): Promise<void> {
      while (running) await running
    },
    attempts: () => attempts,
  }
}
