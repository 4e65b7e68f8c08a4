import type { BeginRequest, BeginResult, SettlementRecord, UpdateRequest } from '../core/settlement-record.js'
import type { GrantRecord } from '../core/grants.js'
import type { LedgerEntry } from './types.js'

/*
 * The store, split by consumer: each one takes only the ports it uses, so a later backend (a
 * durable ledger in PostgreSQL, say) can replace one port without touching the others. Redis and
 * memory each provide every port (`StoreBundle`). Every method rejects with `StoreUnavailable`
 * when the backing store cannot be reached.
 */

/** Single use of method keys such as transaction hashes, each held by one owner (a challenge id). */
export interface Claims {
  /**
   * Atomically claims `key` for `owner` until `expiresAtMs` (epoch ms). True if this call got it,
   * or `owner` holds it already (a re-driven settlement of the same challenge).
   */
  claim(key: string, expiresAtMs: number, owner: string): Promise<boolean>
  /** Gives a claim back (settlement failed and moved no money); only its owner can. */
  release(key: string, owner: string): Promise<void>
}

/**
 * The settlement record of each challenge (core/settlement-record.ts has the rules). Each call is
 * one atomic step across every replica on the store.
 */
export interface Settlements {
  begin(request: BeginRequest): Promise<BeginResult>
  /** A transition by the record's owner; false when another attempt took it over. */
  update(request: UpdateRequest): Promise<boolean>
  /** Forgets a record nothing was paid on, unless another attempt took it over. */
  drop(id: string, attempt: string): Promise<void>
  /**
   * Unfinished records whose lease ended by `cutoff` (unix ms), at most `limit`; each is handed out
   * once across replicas until it is leased again.
   */
  unfinished(cutoff: number, limit: number): Promise<Array<{ id: string; record: SettlementRecord }>>
}

/** The ledger of settled payments. */
export interface Ledger {
  /** Appends a settled payment. */
  record(entry: LedgerEntry): Promise<void>
  /** Reads the ledger, oldest first (operators reconcile from it; tests assert on it). */
  ledger(limit?: number): Promise<LedgerEntry[]>
}

/** Reading the ledger back from the newest end, for `mpp-gateway payments`. */
export interface LedgerHistory {
  /**
   * The newest entries first (in the order they were written), at most `limit`; with `settledSince`
   * (unix ms) only those whose `settledAt` is at or after it.
   */
  recentLedger(limit: number, settledSince?: number): Promise<LedgerEntry[]>
}

/** Fixed-window counters for rate budgets. */
export interface RateCounter {
  /**
   * Counts one event under `key` in the current fixed window of `windowMs` and returns the count
   * so far in that window (1 for the first). Shared by every replica on the same Redis.
   */
  countHit(key: string, windowMs: number): Promise<number>
}

/** Work that must eventually be done even across a restart (the Stripe-deposit outbox). */
export interface DurableQueue {
  /** Keeps `job` under `id` in `queue` until `removePending` (writing an id again replaces its job). */
  addPending(queue: string, id: string, job: string): Promise<void>
  /** Jobs still pending in `queue` (at most `limit`), in no particular order. */
  listPending(queue: string, limit?: number): Promise<Array<{ id: string; job: string }>>
  removePending(queue: string, id: string): Promise<void>
}

/** Scoped follow-up keys (core/grants.ts), each under the SHA-256 of its key; never the key itself. */
export interface Grants {
  /**
   * Keeps `record` under `hash` until `keepUntilMs` (epoch ms): past the key's expiry, so that an
   * expired key is told apart from one never issued.
   */
  putGrant(hash: string, record: GrantRecord, keepUntilMs: number): Promise<void>
  /** The record under `hash`, or undefined. */
  getGrant(hash: string): Promise<GrantRecord | undefined>
}

/** Readiness and shutdown. */
export interface Health {
  /** a human-readable description for logs, e.g. "redis redis://127.0.0.1:6379" */
  readonly description: string
  /** Resolves when the store answers. */
  ping(): Promise<void>
  close(): Promise<void>
}

/** What one backend (Redis, memory) provides. */
export interface StoreBundle
  extends Claims,
    Settlements,
    Ledger,
    LedgerHistory,
    RateCounter,
    DurableQueue,
    Grants,
    Health {}
