import { describe, expect, it } from 'vitest'
import { parseDuration } from './duration.js'

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['0s', 0],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1m30s', 90_000],
    ['1h1m1s1ms', 3_661_001],
    ['2d12h', 216_000_000],
    ['90s', 90_000],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each([
    '',
    '5',
    '-5s',
    '1.5s',
    '5 m',
    ' 5m',
    '5m ',
    '5M',
    '5sec',
    '5y',
    's',
    '1s1m',
    '1s1s',
    '1m30',
    '+5s',
    '1e3ms',
    '99999999999999999d',
  ])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined()
  })
})
