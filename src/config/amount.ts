import type { DecimalAmount } from './types.js'

/** Every TIP-20 (Tempo stablecoin) token has 6 decimals (tempo `TIP20_DECIMALS`). */
export const TIP20_DECIMALS = 6

/** Most fraction digits a price may have: 18 covers every token's base unit (wei). */
export const MAX_FRACTION_DIGITS = 18

// One spelling per number class: no sign, exponent, leading/trailing dot or redundant leading zero.
const DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]{1,18}))?$/

/** Parses a non-negative decimal string such as "0.50" exactly (never through a float). */
export function parseDecimal(text: string): DecimalAmount | undefined {
  const match = DECIMAL.exec(text)
  if (!match) return undefined
  const fraction = match[2] ?? ''
  return { text, units: BigInt(match[1]! + fraction), scale: fraction.length }
}

/**
 * The amount in integer base units of a currency with `decimals` fraction digits, or undefined when
 * that would need rounding ("0.505" at 2 decimals): a price is charged exactly or not at all.
 */
export function toBaseUnits(amount: DecimalAmount, decimals: number): bigint | undefined {
  if (!Number.isSafeInteger(decimals) || decimals < 0) return undefined
  if (amount.scale <= decimals) return amount.units * 10n ** BigInt(decimals - amount.scale)
  const divisor = 10n ** BigInt(amount.scale - decimals)
  if (amount.units % divisor !== 0n) return undefined
  return amount.units / divisor
}

/** Formats base units as a decimal with exactly `decimals` fraction digits (50n at 2 → "0.50"). */
export function formatBaseUnits(units: bigint, decimals: number): string {
  const sign = units < 0n ? '-' : ''
  const digits = (units < 0n ? -units : units).toString()
  if (decimals <= 0) return sign + digits
  const padded = digits.padStart(decimals + 1, '0')
  return `${sign}${padded.slice(0, -decimals)}.${padded.slice(-decimals)}`
}

/** -1, 0 or 1 as `a` is less than, equal to or more than `b` ("0.5" equals "0.50"). */
export function compareDecimal(a: DecimalAmount, b: DecimalAmount): -1 | 0 | 1 {
  const scale = Math.max(a.scale, b.scale)
  const x = a.units * 10n ** BigInt(scale - a.scale)
  const y = b.units * 10n ** BigInt(scale - b.scale)
  return x < y ? -1 : x > y ? 1 : 0
}

/** Base units as a price a person reads: trailing zeros dropped down to two fraction digits (500000n at 6 → "0.50"). */
export function formatMajorUnits(units: bigint, decimals: number): string {
  const exact = formatBaseUnits(units, decimals)
  if (decimals <= 2) return exact
  return exact.replace(/0+$/, '').replace(/\.(\d?)$/, (_, digit: string) => `.${digit.padEnd(2, '0')}`)
}
