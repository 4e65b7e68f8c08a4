import type { LimitsConfig } from './types.js'

/** `limits:` defaults: Node's own timeouts as they were (keep-alive 65 s was already ours), plus the new bounds. */
export const LIMIT_DEFAULTS = {
  bodyTimeout: '30s',
  bufferedBytes: 64 * 1024 * 1024,
  maxConnections: 10_000,
  headersTimeout: '60s',
  keepAliveTimeout: '65s',
  requestTimeout: '5m',
} as const

export const LIMIT_KEYS = Object.keys(LIMIT_DEFAULTS)

/** the keys read only when the server starts listening */
const LISTEN_LEVEL = [
  'bufferedBytes',
  'maxConnections',
  'headersTimeoutMs',
  'keepAliveTimeoutMs',
  'requestTimeoutMs',
] as const

/**
 * Relations between the limits, as `[key, problem]`. Node refuses a headersTimeout above the
 * requestTimeout; a bodyTimeout above it would never fire (Node's bare 408 would come first).
 */
export function limitRelationProblems(limits: LimitsConfig): Array<readonly [string, string]> {
  const problems: Array<readonly [string, string]> = []
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    problems.push([
      'headersTimeout',
      `(${limits.headersTimeoutMs} ms) must not exceed limits.requestTimeout (${limits.requestTimeoutMs} ms): Node requires headersTimeout ≤ requestTimeout`,
    ])
  }
  if (limits.bodyTimeoutMs > limits.requestTimeoutMs) {
    problems.push([
      'bodyTimeout',
      `(${limits.bodyTimeoutMs} ms) must not exceed limits.requestTimeout (${limits.requestTimeoutMs} ms), which would cut the body first`,
    ])
  }
  return problems
}

/** The config keys (as written) of listen-level limits that differ: a reload cannot apply them. */
export function restartOnlyLimitChanges(live: LimitsConfig, next: LimitsConfig): string[] {
  return LISTEN_LEVEL.filter((key) => live[key] !== next[key]).map((key) => `limits.${key.replace(/Ms$/, '')}`)
}
