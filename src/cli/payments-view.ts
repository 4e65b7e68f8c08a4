import { parseDuration } from '../config/duration.js'
import type { LedgerEntry, LedgerState, PaidOutcome } from '../store/types.js'

/** One challenge's payment as `mpp-gateway payments` shows it: its latest ledger entry. */
export interface PaymentRow {
  /** ISO 8601, as in the ledger */
  readonly settledAt: string
  readonly route: string
  readonly method: string
  /** base units, as in the ledger and the challenge request */
  readonly amount: string
  readonly currency: string
  /** the amount in the currency's units, as `check` shows prices ("0.50 usd", "0.50 pathUSD") */
  readonly price: string
  readonly reference: string
  /** absent in entries written before the state was recorded */
  readonly state?: LedgerState
  readonly outcome?: PaidOutcome
  /** 0 when no answer came from the upstream */
  readonly upstreamStatus: number
  /** ledger entries of this challenge: more than 1 when it was served again (a payer who left came back) */
  readonly entries: number
  readonly challengeId: string
}

/** Formats base units of a method's currency as a person reads them (the method's own wording). */
export type FormatAmount = (method: string, amount: string, currency: string) => string

/**
 * Ledger entries, newest first, to one row per challenge (its latest entry and how many it has),
 * on `route` if given; the newest `limit` rows by settlement time, listed oldest first.
 */
export function paymentRows(
  newestFirst: readonly LedgerEntry[],
  options: { readonly route?: string; readonly limit: number; readonly format: FormatAmount },
): PaymentRow[] {
  const latest = new Map<string, { entry: LedgerEntry; entries: number }>()
  for (const entry of newestFirst) {
    if (options.route !== undefined && entry.route !== options.route) continue
    const seen = latest.get(entry.challengeId)
    if (seen) seen.entries++
    else latest.set(entry.challengeId, { entry, entries: 1 })
  }
  const rows = [...latest.values()].map(({ entry, entries }) => toRow(entry, entries, options.format))
  // ISO 8601 UTC strings sort as times; the sort is stable, so equal times keep the ledger's order
  rows.sort((a, b) => (a.settledAt < b.settledAt ? 1 : a.settledAt > b.settledAt ? -1 : 0))
  return rows.slice(0, options.limit).reverse()
}

function toRow(entry: LedgerEntry, entries: number, format: FormatAmount): PaymentRow {
  return {
    settledAt: entry.settledAt,
    route: entry.route,
    method: entry.method,
    amount: entry.amount,
    currency: entry.currency,
    price: format(entry.method, entry.amount, entry.currency),
    reference: entry.reference,
    ...(entry.state && { state: entry.state }),
    ...(entry.outcome && { outcome: entry.outcome }),
    upstreamStatus: entry.upstreamStatus,
    entries,
    challengeId: entry.challengeId,
  }
}

/** One JSON object per line, for `jq` and scripts: every field of PaymentRow. */
export function paymentsJsonLines(rows: readonly PaymentRow[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('')
}

/** The table for a terminal, then the totals charged per method and currency. */
export function paymentsTable(rows: readonly PaymentRow[], format: FormatAmount): string {
  if (rows.length === 0) return 'No payments.\n'
  const table = [
    ['time', 'route', 'method', 'amount', 'reference', 'state', 'status', 'entries'],
    ...rows.map((row) => [
      // to the second: the ledger keeps the milliseconds (--json)
      row.settledAt.replace(/\.\d+Z$/, 'Z'),
      row.route,
      row.method,
      row.price,
      row.reference,
      describeState(row),
      row.upstreamStatus === 0 ? '-' : String(row.upstreamStatus),
      String(row.entries),
    ]),
  ]
  const totals = totalsOf(rows).map((total) => [
    format(total.method, total.amount.toString(), total.currency),
    `${total.method}, ${total.count} ${total.count === 1 ? 'payment' : 'payments'}`,
  ])
  return [
    ...aligned(table),
    '',
    `Charged (${rows.length} ${rows.length === 1 ? 'payment' : 'payments'}):`,
    ...aligned(totals).map((line) => `  ${line}`),
    '',
  ].join('\n')
}

/** "served", or the state with what the payer got when it was not served ("failed (upstream-timeout)"). */
function describeState(row: PaymentRow): string {
  if (row.state === undefined) return row.outcome ?? '-'
  return row.outcome === undefined || row.outcome === row.state ? row.state : `${row.state} (${row.outcome})`
}

function totalsOf(
  rows: readonly PaymentRow[],
): Array<{ method: string; currency: string; amount: bigint; count: number }> {
  const totals = new Map<string, { method: string; currency: string; amount: bigint; count: number }>()
  for (const row of rows) {
    const key = `${row.method}\u0000${row.currency}`
    const total = totals.get(key) ?? { method: row.method, currency: row.currency, amount: 0n, count: 0 }
    total.amount += baseUnits(row.amount)
    total.count++
    totals.set(key, total)
  }
  return [...totals.values()]
}

function baseUnits(amount: string): bigint {
  return /^\d+$/.test(amount) ? BigInt(amount) : 0n
}

function aligned(table: readonly (readonly string[])[]): string[] {
  const widths = (table[0] ?? []).map((_, column) => Math.max(...table.map((row) => row[column]!.length)))
  return table.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  )
}

/**
 * `--since`: an ISO 8601 time ("2026-12-01", "2026-12-01T09:00:00Z") or a duration back from
 * `nowMs` in the config's syntax ("30m", "1h", "7d"), as unix ms; undefined when it is neither.
 */
export function parseSince(text: string, nowMs: number): number | undefined {
  const duration = parseDuration(text)
  if (duration !== undefined) return nowMs - duration
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return undefined
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : at
}
