/** Milliseconds per unit, largest first: compound durations must list units in this order. */
const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
]

const PART = /(\d+)(ms|d|h|m|s)/y

/**
 * Parses "500ms", "30s", "5m", "1h", "1d" or a compound like "1m30s" into milliseconds.
 * Integers only and each unit at most once, largest first, so every duration has one obvious
 * reading; bare numbers are refused because their unit would be a guess.
 */
export function parseDuration(text: string): number | undefined {
  if (text === '') return undefined
  let total = 0
  let lastRank = -1
  PART.lastIndex = 0
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex
    const match = PART.exec(text)
    if (!match || match.index !== start) return undefined
    const rank = UNITS.findIndex(([unit]) => unit === match[2])
    if (rank <= lastRank) return undefined
    lastRank = rank
    total += Number(match[1]) * UNITS[rank]![1]
    if (!Number.isSafeInteger(total)) return undefined
  }
  return total
}
