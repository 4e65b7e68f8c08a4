import { loadConfig } from '../config/load.js'
import { methodPlugins } from '../methods/index.js'
import { createRedisStore } from '../store/redis.js'
import { StoreUnavailable } from '../store/types.js'
import { UsageError } from './pay.js'
import { type FormatAmount, parseSince, paymentRows, paymentsJsonLines, paymentsTable } from './payments-view.js'

/** the most ledger entries one run reads, newest first: --since narrows a larger ledger */
export const SCAN_MAX = 100_000

export interface PaymentsOptions {
  readonly config: string
  readonly route?: string
  readonly since?: string
  readonly limit?: string
  /** JSON lines even on a terminal */
  readonly json: boolean
  /** whether stdout is a terminal: the table, unless --json */
  readonly tty: boolean
  readonly now?: () => number
}

interface Output {
  write(text: string): unknown
}

/**
 * `mpp-gateway payments`: the ledger of the config's shared store, one row per challenge. Exits 0,
 * 1 when the config or the store fails (or there is no shared store to read), 2 on a bad flag.
 */
export async function runPayments(options: PaymentsOptions, out: Output, err: Output): Promise<number> {
  const limit = options.limit === undefined ? 50 : /^[1-9]\d{0,8}$/.test(options.limit) ? Number(options.limit) : 0
  if (limit === 0) throw new UsageError(`--limit ${options.limit}: use a whole number of payments, 1 or more`)
  const since = options.since === undefined ? undefined : parseSince(options.since, (options.now ?? Date.now)())
  if (options.since !== undefined && since === undefined)
    throw new UsageError(
      `--since ${options.since}: use an ISO time (2026-12-01T09:00:00Z) or a duration back from now (30m, 1h, 7d)`,
    )

  const loaded = await loadConfig(options.config)
  if (!loaded.ok) {
    for (const error of loaded.errors) err.write(`${error}\n`)
    return 1
  }
  const { config } = loaded
  if (!config.store.url) {
    err.write(
      `${options.config}: store.url: is not set, so the ledger is in the memory of the gateway process and no other process can read it; set store.url (Redis) to keep a ledger this command reads\n`,
    )
    return 1
  }
  if (options.route !== undefined && !config.routes.some((route) => route.match === options.route))
    err.write(`note: ${options.config} has no route "${options.route}"; showing what the ledger holds under it\n`)

  const store = createRedisStore({ url: config.store.url, keyPrefix: config.store.keyPrefix })
  try {
    const entries = await store.recentLedger(SCAN_MAX, since)
    if (entries.length === SCAN_MAX)
      err.write(`note: read the newest ${SCAN_MAX} ledger entries only; narrow with --since\n`)
    const rows = paymentRows(entries, { ...(options.route !== undefined && { route: options.route }), limit, format })
    out.write(options.json || !options.tty ? paymentsJsonLines(rows) : paymentsTable(rows, format))
    return 0
  } catch (error) {
    if (!(error instanceof StoreUnavailable)) throw error
    err.write(`${store.description}: ${error.message}\n`)
    return 1
  } finally {
    await store.close()
  }
}

/** As `check` shows prices: the method's own wording; a method this build lacks shows base units. */
const format: FormatAmount = (method, amount, currency) => {
  const plugin = methodPlugins.find((p) => p.name === method)
  if (!plugin || !/^\d+$/.test(amount)) return `${amount} ${currency} (base units)`
  return plugin.formatPrice({ amount, currency })
}
