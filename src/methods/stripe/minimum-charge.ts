/**
 * Stripe's per-currency amount rules, as far as pricing needs them: how many fraction digits the
 * API's integer `amount` has, and the smallest charge Stripe accepts. Stripe rejects a smaller
 * PaymentIntent outright, so offering one would only produce challenges nobody can pay.
 */

/** Currencies whose Stripe `amount` is in whole units (docs: "zero-decimal currencies"). */
const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
])

/** Three-decimal currencies; Stripe wants their last digit to be 0, i.e. a multiple of 10 minor units. */
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd'])

/** Stripe's minimum charge in minor units (docs: "Minimum and maximum charge amounts"). */
const MINIMUM_MINOR_UNITS: Readonly<Record<string, number>> = {
  usd: 50,
  aed: 200,
  aud: 50,
  bgn: 100,
  brl: 50,
  cad: 50,
  chf: 50,
  czk: 1500,
  dkk: 250,
  eur: 50,
  gbp: 30,
  hkd: 400,
  huf: 17500,
  inr: 50,
  jpy: 50,
  mxn: 1000,
  myr: 200,
  nok: 300,
  nzd: 50,
  pln: 200,
  ron: 200,
  sek: 300,
  sgd: 50,
  thb: 1000,
}

/** Stripe's `amount` takes at most eight digits (99999999 = 999,999.99 usd). */
export const MAXIMUM_MINOR_UNITS = 99_999_999n

/** Fraction digits of the currency's minor unit in Stripe's API (2 unless listed otherwise). */
export function currencyDecimals(currency: string): number {
  const code = currency.toLowerCase()
  if (ZERO_DECIMAL.has(code)) return 0
  if (THREE_DECIMAL.has(code)) return 3
  return 2
}

/** The step an amount in minor units must be a multiple of (10 for three-decimal currencies). */
export function minorUnitStep(currency: string): bigint {
  return THREE_DECIMAL.has(currency.toLowerCase()) ? 10n : 1n
}

/** Stripe's minimum charge in minor units, or undefined when this table does not know the currency. */
export function minimumCharge(currency: string): bigint | undefined {
  const minimum = MINIMUM_MINOR_UNITS[currency.toLowerCase()]
  return minimum === undefined ? undefined : BigInt(minimum)
}
