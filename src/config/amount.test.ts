import { describe, expect, it } from 'vitest'
import { formatBaseUnits, formatMajorUnits, parseDecimal, toBaseUnits } from './amount.js'

describe('parseDecimal', () => {
  it.each([
    ['0', 0n, 0],
    ['0.50', 50n, 2],
    ['12', 12n, 0],
    ['1.25', 125n, 2],
    ['0.000000000000000001', 1n, 18],
    ['123456789012345678901234567890', 123456789012345678901234567890n, 0],
  ])('parses %s', (text, units, scale) => {
    expect(parseDecimal(text)).toEqual({ text, units, scale })
  })

  it.each([
    'abc',
    '-1',
    '1e3',
    '.5',
    '5.',
    ' 1',
    '1 ',
    '+1',
    '0x10',
    '',
    '01',
    '1,5',
    '1.2.3',
    'NaN',
    'Infinity',
    '0.0000000000000000001',
    '１',
  ])('rejects %j', (text) => {
    expect(parseDecimal(text)).toBeUndefined()
  })
})

describe('toBaseUnits', () => {
  const at = (text: string, decimals: number) => toBaseUnits(parseDecimal(text)!, decimals)

  it('converts exactly', () => {
    expect(at('0.50', 2)).toBe(50n)
    expect(at('1.25', 6)).toBe(1_250_000n)
    expect(at('12', 0)).toBe(12n)
    expect(at('1.00', 0)).toBe(1n)
    expect(at('0.1', 18)).toBe(100_000_000_000_000_000n)
    expect(at('0', 2)).toBe(0n)
  })

  it('refuses amounts that would need rounding', () => {
    expect(at('0.505', 2)).toBeUndefined()
    expect(at('0.50', 0)).toBeUndefined()
    expect(at('0.000001', 2)).toBeUndefined()
  })

  it('refuses nonsensical decimals', () => {
    expect(at('1', -1)).toBeUndefined()
    expect(at('1', 1.5)).toBeUndefined()
  })
})

describe('formatBaseUnits', () => {
  it.each([
    [50n, 2, '0.50'],
    [5n, 2, '0.05'],
    [0n, 2, '0.00'],
    [12n, 0, '12'],
    [1_250_000n, 6, '1.250000'],
    [12345n, 2, '123.45'],
    [-5n, 2, '-0.05'],
  ])('formats %s at %i', (units, decimals, text) => {
    expect(formatBaseUnits(units, decimals)).toBe(text)
  })
})

describe('formatMajorUnits', () => {
  it.each([
    [50n, 2, '0.50'],
    [125n, 2, '1.25'],
    [500000n, 6, '0.50'],
    [1250000n, 6, '1.25'],
    [1234567n, 6, '1.234567'],
    [1000000n, 6, '1.00'],
    [120n, 6, '0.00012'],
    [50n, 0, '50'],
  ])('%s at %s decimals is %s', (units, decimals, text) => expect(formatMajorUnits(units, decimals)).toBe(text))
})
