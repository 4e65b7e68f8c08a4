import type { Logger } from '../../../log/logger.js'
import type { DurableQueue } from '../../../store/ports.js'
import { BackendUnavailable } from '../../../core/method.js'
import type { CryptoRecord, StripeCrypto } from './stripe-crypto.js'

/** The store queue of payments served but not yet recorded in Stripe. */
export const CRYPTO_RECORD_QUEUE = 'stripe-crypto-records'
/** records sent per retry pass; the others wait for the next pass */
const RETRY_BATCH = 100
/** records read per pass, so records in back-off cannot hide the others */
const PENDING_SCAN_MAX = 10_000
/** a record failing again and again is retried at most this rarely */
const MAX_BACKOFF_MS = 15 * 60_000

export interface CryptoRecorderOptions {
  readonly crypto: StripeCrypto
  readonly network: string
  /** the outbox: a record stays there until Stripe has it */
  readonly store: DurableQueue
  readonly logger: Logger
  /** counts a failed Stripe call (`mpp_backend_errors_total{backend="stripe"}`) */
  readonly onBackendError: (backend: string) => void
  /** how often pending records are retried; undefined: only when `retryPending` is called */
  readonly retryMs?: number
  /** unix ms */
  readonly now?: () => number
}

export interface CryptoRecorder {
  /**
   * Writes the record to the store's pending queue (so it survives a crash or a Stripe outage),
   * then sends it to Stripe in the background. Rejects only when the store cannot keep it.
   */
  record(record: CryptoRecord): Promise<void>
  /**
   * Sends pending records again (Stripe replays the ones it has); resolves when done. By default
   * every one, now; with `dueOnly`, only those whose back-off has passed (what the timer does).
   */
  retryPending(options?: { dueOnly?: boolean }): Promise<void>
  close(): void
}

/**
 * Records on-chain payments into a Stripe balance reliably: a payment is served as soon as it is
 * verified on chain, so its Stripe record is an outbox entry, retried from the store on a timer
 * until Stripe accepts it. The transaction hash is both the entry id and Stripe's idempotency key,
 * so retries from any replica, overlapping or not, leave exactly one PaymentIntent per payment.
 */
export function createCryptoRecorder(options: CryptoRecorderOptions): CryptoRecorder {
  const { crypto, network, store, logger } = options
  /** hashes being sent by this process now, so the timer does not race the first attempt */
  const sending = new Set<string>()
  /** failures so far and the earliest next attempt, per hash (in memory: after a restart every record is due) */
  const failures = new Map<string, { count: number; notBefore: number }>()
  const now = options.now ?? Date.now
  const backoffBase = options.retryMs ?? 0
  let passRunning = false

  async function send(record: CryptoRecord): Promise<void> {
    const hash = record.transactionHash
    if (sending.has(hash)) return
    sending.add(hash)
    try {
      const result = await crypto.recordTransaction(network, record)
      await store.removePending(CRYPTO_RECORD_QUEUE, hash)
      failures.delete(hash)
      logger.info('payment recorded in Stripe', {
        transactionHash: hash,
        paymentIntent: result.id,
        status: result.status,
        replayed: result.replayed,
      })
    } catch (error) {
      const count = (failures.get(hash)?.count ?? 0) + 1
      // Back off per record (doubling, capped), so a long outage or a record Stripe keeps refusing
      // neither floods Stripe nor the log.
      failures.set(hash, { count, notBefore: now() + Math.min(backoffBase * 2 ** (count - 1), MAX_BACKOFF_MS) })
      const backend = error instanceof BackendUnavailable ? error.backend : 'store'
      options.onBackendError(backend)
      // The payer was served: the record stays queued and is retried; it is never dropped.
      logger.error('payment not yet recorded in Stripe; will retry', {
        transactionHash: hash,
        attempts: count,
        backend,
        error,
      })
    } finally {
      sending.delete(hash)
    }
  }

  /** One pass over the pending records that are due; `force` ignores the back-off. */
  async function retryPass(force: boolean): Promise<void> {
    let jobs: Array<{ id: string; job: string }>
    try {
      jobs = await store.listPending(CRYPTO_RECORD_QUEUE, PENDING_SCAN_MAX)
    } catch (error) {
      options.onBackendError('store')
      logger.warn('could not read the Stripe records still pending', { error })
      return
    }
    // Records another replica has sent are gone from the queue: forget their back-off here too.
    if (jobs.length < PENDING_SCAN_MAX) {
      const pending = new Set(jobs.map((j) => j.id))
      for (const hash of failures.keys()) if (!pending.has(hash)) failures.delete(hash)
    }
    const at = now()
    const due = jobs.filter(({ id }) => force || (failures.get(id)?.notBefore ?? 0) <= at).slice(0, RETRY_BATCH)
    for (const { id, job } of due) {
      const record = parseRecord(job)
      if (!record) {
        logger.error('unreadable pending Stripe record left in the store', { transactionHash: id })
        continue
      }
      await send(record)
    }
  }

  const timer =
    options.retryMs === undefined
      ? undefined
      : setInterval(() => {
          // A slow pass (Stripe timing out) must not overlap the next one.
          if (passRunning) return
          passRunning = true
          void retryPass(false).finally(() => {
            passRunning = false
          })
        }, options.retryMs)
  timer?.unref()

  return {
    async record(record) {
      await store.addPending(CRYPTO_RECORD_QUEUE, record.transactionHash, JSON.stringify(record))
      void send(record)
    },
    retryPending: (options) => retryPass(!options?.dueOnly),
    close() {
      // stops the timer only: a record being sent finishes, and the next generation's recorder takes over
      if (timer) clearInterval(timer)
    },
  }
}

function parseRecord(job: string): CryptoRecord | undefined {
  try {
    const value = JSON.parse(job) as Partial<CryptoRecord>
    if (
      typeof value.transactionHash !== 'string' ||
      typeof value.amount !== 'number' ||
      typeof value.metadata !== 'object' ||
      value.metadata === null
    )
      return undefined
    return { transactionHash: value.transactionHash, amount: value.amount, metadata: value.metadata }
  } catch {
    return undefined
  }
}
