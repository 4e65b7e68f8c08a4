import { describe, expect, it } from 'vitest'
import { silentLogger } from '../log/logger.js'
import { createMemoryStore } from '../store/memory.js'
import type { PaidOutcome } from '../store/types.js'
import { commitPaid, ledgerEntry, paidButNotServed, stateAfter } from './ledger.js'
import { SettlementAttempt } from './settlement.js'

const paid = {
  challengeId: 'ch_1',
  route: 'GET /v1/report',
  method: 'stripe',
  amount: '500',
  currency: 'usd',
  settlement: { reference: 'pi_1' },
  settledAt: '2026-12-01T10:00:00.000Z',
}

describe('stateAfter', () => {
  it('fails a 5xx, no answer, no connection and an upstream 402; serves a 2xx, a 4xx and a body cut after its headers', () => {
    const state = (outcome: PaidOutcome, upstreamStatus: number) => stateAfter({ outcome, upstreamStatus })
    expect(state('served', 200)).toBe('served')
    expect(state('cut', 200)).toBe('served')
    expect(state('upstream-error', 404)).toBe('served')
    expect(state('upstream-error', 500)).toBe('failed')
    expect(state('upstream-error', 503)).toBe('failed')
    expect(state('upstream-timeout', 0)).toBe('failed')
    expect(state('upstream-unreachable', 0)).toBe('failed')
    expect(state('upstream-challenge', 402)).toBe('failed')
    expect(state('client-gone', 0)).toBe('paid')
  })
})

describe('ledgerEntry', () => {
  it('records the payment and what the upstream did, without the failure reason', () => {
    expect(ledgerEntry(paid, { outcome: 'upstream-unreachable', upstreamStatus: 0, failure: 'connect' })).toStrictEqual(
      {
        challengeId: 'ch_1',
        route: 'GET /v1/report',
        method: 'stripe',
        amount: '500',
        currency: 'usd',
        reference: 'pi_1',
        settledAt: '2026-12-01T10:00:00.000Z',
        state: 'failed',
        outcome: 'upstream-unreachable',
        upstreamStatus: 0,
      },
    )
  })
})

describe('paidButNotServed', () => {
  it('counts everything but served and client-gone as paid but not served', () => {
    expect(
      [
        'served',
        'client-gone',
        'cut',
        'upstream-error',
        'upstream-challenge',
        'upstream-timeout',
        'upstream-unreachable',
      ].filter((o) => paidButNotServed(o as never)),
    ).toEqual(['cut', 'upstream-error', 'upstream-challenge', 'upstream-timeout', 'upstream-unreachable'])
  })
})

function attemptOn(store: ReturnType<typeof createMemoryStore>) {
  return new SettlementAttempt(store, Date.now, {
    id: paid.challengeId,
    fingerprint: 'fp',
    method: paid.method,
    settleLeaseMs: 10_000,
    forwardLeaseMs: 10_000,
    keepUntil: Date.now() + 60_000,
  })
}

const presentAgain = (store: ReturnType<typeof createMemoryStore>) =>
  store.begin({
    id: paid.challengeId,
    fingerprint: 'fp',
    attempt: 'again',
    method: paid.method,
    now: Date.now(),
    leaseUntil: Date.now() + 1_000,
    forwardLeaseUntil: Date.now() + 1_000,
    keepUntil: Date.now() + 60_000,
    issuedAt: Date.now(),
    expired: false,
  })

describe('commitPaid', () => {
  it('appends the entry (state served) and ends the record when the payer was served', async () => {
    const store = createMemoryStore()
    const attempt = attemptOn(store)
    await attempt.begin({ issuedAt: Date.now(), expired: false })
    await attempt.paid(JSON.stringify(paid))
    const committed = await commitPaid(store, attempt, silentLogger, paid, { outcome: 'served', upstreamStatus: 200 })
    expect(committed.counts).toEqual([])
    expect(committed.entry.state).toBe('served')
    expect(await store.ledger()).toStrictEqual([committed.entry])
    expect(await presentAgain(store)).toStrictEqual({ kind: 'used', state: 'served' })
  })

  it('gives a payer who left the record back as paid: the same credential is forwarded again', async () => {
    const store = createMemoryStore()
    const attempt = attemptOn(store)
    await attempt.begin({ issuedAt: Date.now(), expired: false })
    await attempt.paid(JSON.stringify(paid))
    const committed = await commitPaid(store, attempt, silentLogger, paid, {
      outcome: 'client-gone',
      upstreamStatus: 0,
    })
    expect(committed.entry).toMatchObject({ state: 'paid', outcome: 'client-gone', upstreamStatus: 0 })
    expect(await presentAgain(store)).toStrictEqual({ kind: 'paid', paid: JSON.stringify(paid) })
  })

  it('counts a cut response as paid but not served, and its record as served: its headers went out, so no retry', async () => {
    const store = createMemoryStore()
    const committed = await commitPaid(store, attemptOn(store), silentLogger, paid, {
      outcome: 'cut',
      upstreamStatus: 200,
      bytesSent: 3,
      bytesExpected: 10,
    })
    expect(committed.counts).toStrictEqual([{ metric: 'paidButUpstreamFailed', args: ['GET /v1/report'] }])
    expect(committed.entry).toMatchObject({ state: 'served', outcome: 'cut', bytesSent: 3, bytesExpected: 10 })
  })
})
