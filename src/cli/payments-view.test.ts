import { describe, expect, it } from 'vitest'
import type { LedgerEntry } from '../store/types.js'
import { type FormatAmount, parseSince, paymentRows, paymentsJsonLines, paymentsTable } from './payments-view.js'

// the methods' wording stands in plainly here; payments.ts passes each plugin's formatPrice
const format: FormatAmount = (method, amount, currency) =>
  method === 'tempo' ? `${Number(amount) / 1e6} pathUSD` : `${(Number(amount) / 100).toFixed(2)} ${currency}`

function entry(over: Partial<LedgerEntry> & { challengeId: string; settledAt: string }): LedgerEntry {
  return {
    route: 'GET /paid',
    method: 'stripe',
    amount: '150',
    currency: 'usd',
    reference: `pi_${over.challengeId}`,
    upstreamStatus: 200,
    state: 'served',
    outcome: 'served',
    ...over,
  }
}

// newest first, as recentLedger reads: ch_b was served again after its payer left
const ledger: LedgerEntry[] = [
  entry({
    challengeId: 'ch_c',
    settledAt: '2026-12-01T10:02:00.000Z',
    route: 'POST /t',
    method: 'tempo',
    amount: '500000',
    currency: '0x20c0000000000000000000000000000000000000',
    reference: '0xabc',
  }),
  entry({ challengeId: 'ch_b', settledAt: '2026-12-01T10:01:00.000Z' }),
  entry({ challengeId: 'ch_b', settledAt: '2026-12-01T10:01:00.000Z', state: 'paid', outcome: 'client-gone' }),
  entry({
    challengeId: 'ch_a',
    settledAt: '2026-12-01T10:00:00.250Z',
    upstreamStatus: 0,
    state: 'failed',
    outcome: 'upstream-timeout',
  }),
]

describe('paymentRows', () => {
  it('gives one row per challenge, its latest entry and how many it has, oldest first', () => {
    const rows = paymentRows(ledger, { limit: 50, format })
    expect(rows.map((r) => [r.challengeId, r.state, r.entries, r.price])).toEqual([
      ['ch_a', 'failed', 1, '1.50 usd'],
      ['ch_b', 'served', 2, '1.50 usd'],
      ['ch_c', 'served', 1, '0.5 pathUSD'],
    ])
  })

  it('keeps the newest limit rows by settlement time, and only the route asked for', () => {
    expect(paymentRows(ledger, { limit: 2, format }).map((r) => r.challengeId)).toEqual(['ch_b', 'ch_c'])
    // a challenge whose latest entry was written first still sorts by when it was settled
    const late = [ledger[1]!, ledger[0]!, ledger[3]!]
    expect(paymentRows(late, { limit: 1, format }).map((r) => r.challengeId)).toEqual(['ch_c'])
    expect(paymentRows(ledger, { route: 'GET /paid', limit: 50, format }).map((r) => r.challengeId)).toEqual([
      'ch_a',
      'ch_b',
    ])
    expect(paymentRows(ledger, { route: 'GET /other', limit: 50, format })).toEqual([])
  })
})

describe('paymentsTable', () => {
  it('aligns the columns and sums what was charged per method and currency', () => {
    expect(paymentsTable(paymentRows(ledger, { limit: 50, format }), format)).toBe(
      [
        'time                  route      method  amount       reference  state                      status  entries',
        '2026-12-01T10:00:00Z  GET /paid  stripe  1.50 usd     pi_ch_a    failed (upstream-timeout)  -       1',
        '2026-12-01T10:01:00Z  GET /paid  stripe  1.50 usd     pi_ch_b    served                     200     2',
        '2026-12-01T10:02:00Z  POST /t    tempo   0.5 pathUSD  0xabc      served                     200     1',
        '',
        'Charged (3 payments):',
        '  3.00 usd     stripe, 2 payments',
        '  0.5 pathUSD  tempo, 1 payment',
        '',
      ].join('\n'),
    )
  })

  it('says so when there is nothing, and shows entries from before state was recorded', () => {
    expect(paymentsTable([], format)).toBe('No payments.\n')
    const { state: _s, outcome: _o, ...old } = entry({ challengeId: 'ch_old', settledAt: '2026-11-30T08:00:00.000Z' })
    const table = paymentsTable(paymentRows([old], { limit: 50, format }), format)
    expect(table.split('\n')[1]).toBe('2026-11-30T08:00:00Z  GET /paid  stripe  1.50 usd  pi_ch_old  -      200     1')
  })
})

describe('paymentsJsonLines', () => {
  it('writes one object per row with the base units, the price, the state and the entry count', () => {
    const lines = paymentsJsonLines(paymentRows(ledger, { limit: 2, format })).split('\n')
    expect(lines.length).toBe(3)
    expect(lines[2]).toBe('')
    expect(JSON.parse(lines[0]!)).toEqual({
      settledAt: '2026-12-01T10:01:00.000Z',
      route: 'GET /paid',
      method: 'stripe',
      amount: '150',
      currency: 'usd',
      price: '1.50 usd',
      reference: 'pi_ch_b',
      state: 'served',
      outcome: 'served',
      upstreamStatus: 200,
      entries: 2,
      challengeId: 'ch_b',
    })
    expect(paymentsJsonLines([])).toBe('')
  })
})

describe('parseSince', () => {
  const now = Date.parse('2026-12-01T12:00:00.000Z')
  it('takes a duration back from now, in the config syntax', () => {
    expect(parseSince('30m', now)).toBe(now - 1_800_000)
    expect(parseSince('1h30m', now)).toBe(now - 5_400_000)
    expect(parseSince('7d', now)).toBe(now - 604_800_000)
  })
  it('takes an ISO time or date', () => {
    expect(parseSince('2026-12-01T09:00:00Z', now)).toBe(Date.parse('2026-12-01T09:00:00Z'))
    expect(parseSince('2026-12-01T09:00:00.500+01:00', now)).toBe(Date.parse('2026-12-01T08:00:00.500Z'))
    expect(parseSince('2026-11-30', now)).toBe(Date.parse('2026-11-30T00:00:00Z'))
  })
  it('refuses anything else', () => {
    for (const text of ['', '30', 'yesterday', '1h 30m', '2026-13-01', 'Dec 1 2026', '-1h'])
      expect(parseSince(text, now)).toBeUndefined()
  })
})
