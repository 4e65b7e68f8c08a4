import fc from 'fast-check'
import { Json } from 'ox'
import { describe, expect, it } from 'vitest'
import { canonicalize } from './jcs.js'

/** The same data with every object's keys in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reverseKeys(v)]),
  )
}

describe('JCS (RFC 8785), fuzzed', () => {
  it('JSON.parse(canonicalize(v)) is v, and canonicalizing again changes nothing', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalize(value)
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)))
        expect(canonicalize(JSON.parse(text))).toBe(text)
      }),
      { numRuns: 1_000 },
    )
  })

  it('does not depend on key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalize(reverseKeys(value))).toBe(canonicalize(value))
      }),
      { numRuns: 1_000 },
    )
  })

  it('writes the same bytes as ox Json.canonicalize, which mppx uses for challenge ids', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalize(value)).toBe(Json.canonicalize(value as never))
      }),
      { numRuns: 1_000 },
    )
  })

  it('throws only a TypeError on values JSON cannot hold', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withSparseArray: true,
          withNullPrototype: true,
          withBoxedValues: true,
        }),
        (value) => {
          try {
            expect(typeof canonicalize(value)).toBe('string')
          } catch (error) {
            expect(error).toBeInstanceOf(TypeError)
          }
        },
      ),
      { numRuns: 1_000 },
    )
  })
})
