import { describe, expect, it } from 'vitest'
import { silentLogger } from '../log/logger.js'
import { createMemoryStore } from '../store/memory.js'
import { commitPaid, ledgerEntry, paidButNotServed } from './ledger.js'

const paid = {
  challengeId: 'ch_1',
  route: 'GET /v1/report',
  method: 'stripe',
  amount: '500',
  currency: 'usd',
  settlement: { reference: 'pi_1' },
  settledAt: '2026-12-01T10:00:00.000Z',
}

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

describe('commitPaid', () => {
  it('appends the entry to the ledger and moves no counter when the payer was served', async () => {
    const store = createMemoryStore()
    const committed = await commitPaid(store, silentLogger, paid, { outcome: 'served', upstreamStatus: 200 })
    expect(committed.counts).toEqual([])
    expect(await store.ledger()).toStrictEqual([committed.entry])
  })

  it('counts a cut response as paid but not served', async () => {
    const store = createMemoryStore()
    const committed = await commitPaid(store, silentLogger, paid, {
      outcome: 'cut',
      upstreamStatus: 200,
      bytesSent: 3,
      bytesExpected: 10,
    })
    expect(committed.counts).toStrictEqual([{ metric: 'paidButUpstreamFailed', args: ['GET /v1/report'] }])
    expect(committed.entry).toMatchObject({ outcome: 'cut', bytesSent: 3, bytesExpected: 10 })
  })
})
