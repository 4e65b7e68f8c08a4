import { describe, expect, it } from 'vitest'
import { limitRelationProblems, restartOnlyLimitChanges } from './limits.js'
import type { LimitsConfig } from './types.js'

const LIMITS: LimitsConfig = {
  bodyTimeoutMs: 30_000,
  bufferedBytes: 67_108_864,
  maxConnections: 10_000,
  headersTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
  requestTimeoutMs: 300_000,
}

describe('limit relations', () => {
  it('accepts the defaults and timeouts equal to the request timeout', () => {
    expect(limitRelationProblems(LIMITS)).toEqual([])
    expect(limitRelationProblems({ ...LIMITS, headersTimeoutMs: 300_000, bodyTimeoutMs: 300_000 })).toEqual([])
  })

  it('names headersTimeout and bodyTimeout when they exceed the request timeout', () => {
    expect(limitRelationProblems({ ...LIMITS, requestTimeoutMs: 20_000 }).map(([key]) => key)).toEqual([
      'headersTimeout',
      'bodyTimeout',
    ])
  })
})

describe('restart-only limits', () => {
  it('lists the changed listen-level keys as written in the config, and never bodyTimeout', () => {
    expect(restartOnlyLimitChanges(LIMITS, { ...LIMITS, bodyTimeoutMs: 1_000 })).toEqual([])
    expect(
      restartOnlyLimitChanges(LIMITS, { ...LIMITS, maxConnections: 5, requestTimeoutMs: 60_000, bufferedBytes: 1 }),
    ).toEqual(['limits.bufferedBytes', 'limits.maxConnections', 'limits.requestTimeout'])
  })
})
