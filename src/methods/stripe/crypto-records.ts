import type { Logger } from '../../log/logger.js'
import type { ReplayStore } from '../../store/types.js'
import { BackendUnavailable } from '../types.js'
import type { CryptoRecord, StripeCrypto } from './crypto.js'

/** The store queue of payments served but not yet recorded in Stripe. */
export const CRYPTO_RECORD_QUEUE = 'stripe-crypto-records'
const RETRY_BATCH = 100

export interface CryptoRecorderOptions {
  readonly crypto: StripeCrypto
  readonly network: string
  readonly store: ReplayStore
  readonly logger: Logger
  /** counts a failed Stripe call (`mpp_backend_errors_total{backend="stripe"}`) */
  readonly onBackendError: (backend: string) => void
  /** how often pending records are retried; undefined: only when `retryPending` is called */
  readonly retryMs?: number
}

export interface CryptoRecorder {
  /**
   * Writes the record to the store's pending queue (so it survives a crash or a Stripe outage),
   * then sends it to Stripe in the background. Rejects only when the store cannot keep it.
   */
  record(record: CryptoRecord): Promise<void>
  /** Sends every pending record again (Stripe replays the ones it already has); resolves when done. */
  retryPending(): Promise<void>
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
  const attempts = new Map<string, number>()
  let closed = false

  async function send(record: CryptoRecord): Promise<void> {
    const hash = record.transactionHash
    if (sending.has(hash) || closed) return
    sending.add(hash)
    try {
      const result = await crypto.recordTransaction(network, record)
      await store.removePending(CRYPTO_RECORD_QUEUE, hash)
      attempts.delete(hash)
      logger.info('payment recorded in Stripe', { transactionHash: hash, paymentIntent: result.id, status: result.status, replayed: result.replayed })
    } catch (error) {
      const tries = (attempts.get(hash) ?? 0) + 1
      attempts.set(hash, tries)
      const backend = error instanceof BackendUnavailable ? error.backend : 'store'
      options.onBackendError(backend)
      // The payer was served: the record stays queued and is retried; it is never dropped.
      logger.error('payment not yet recorded in Stripe; will retry', { transactionHash: hash, attempts: tries, backend, error })
    } finally {
      sending.delete(hash)
    }
  }

  async function retryPending(): Promise<void> {
    let jobs: Array<{ id: string; job: string }>
    try {
      jobs = await store.listPending(CRYPTO_RECORD_QUEUE, RETRY_BATCH)
    } catch (error) {
      options.onBackendError('store')
      logger.warn('could not read the Stripe records still pending', { error })
      return
    }
    for (const { id, job } of jobs) {
      const record = parseRecord(job)
      if (!record) {
        logger.error('unreadable pending Stripe record left in the store', { transactionHash: id })
        continue
      }
      await send(record)
    }
  }

  const timer = options.retryMs === undefined ? undefined : setInterval(() => void retryPending(), options.retryMs)
  timer?.unref()

  return {
    async record(record) {
      await store.addPending(CRYPTO_RECORD_QUEUE, record.transactionHash, JSON.stringify(record))
      void send(record)
    },
    retryPending,
    close() {
      closed = true
      if (timer) clearInterval(timer)
    },
  }
}

function parseRecord(job: string): CryptoRecord | undefined {
  try {
    const value = JSON.parse(job) as Partial<CryptoRecord>
    if (typeof value.transactionHash !== 'string' || typeof value.amount !== 'number' || typeof value.metadata !== 'object' || value.metadata === null) return undefined
    return { transactionHash: value.transactionHash, amount: value.amount, metadata: value.metadata }
  } catch {
    return undefined
  }
}
