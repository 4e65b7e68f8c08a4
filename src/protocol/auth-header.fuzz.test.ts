import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseParam, splitElements, splitPieces } from './auth-header.js'
import { extract } from './credential.js'
import { authFieldValue, headerText, longRuns, token } from '../../test/support/fuzz.js'

describe('auth-header parsing, fuzzed', () => {
  it('splitPieces, splitElements and extract never throw and lose no piece, on any string', () => {
    fc.assert(
      fc.property(fc.oneof(authFieldValue, fc.string({ unit: 'binary' })), (value) => {
        const pieces = splitPieces(value)
        expect(pieces.every((p) => p !== '' && p === p.trim())).toBe(true)
        // nothing is lost: every piece is a scheme start or a parameter of one element
        const elements = splitElements(value)
        expect(elements.reduce((count, e) => count + (e.scheme === '' ? 0 : 1) + e.params.length, 0)).toBe(
          pieces.length,
        )
        expect(['none', 'one', 'multiple']).toContain(extract(value).kind)
      }),
      { numRuns: 2_000 },
    )
  })

  it('parseParam throws only a plain Error, and lower-cases the name', () => {
    fc.assert(
      fc.property(authFieldValue, (piece) => {
        try {
          const { name } = parseParam(piece)
          expect(name).toBe(name.toLowerCase())
        } catch (error) {
          expect((error as Error).constructor).toBe(Error)
        }
      }),
      { numRuns: 2_000 },
    )
  })

  it('parseParam gives back any printable value written as a quoted-string', () => {
    fc.assert(
      fc.property(token, headerText(), (name, value) => {
        const quoted = `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`
        // `\uXXXX` inside quotes is mppx's escape; a literal backslash before "u" is escaped above, so it survives.
        expect(parseParam(`${name}=${quoted}`)).toEqual({ name: name.toLowerCase(), value })
      }),
      { numRuns: 1_000 },
    )
  })

  it('answers within a second on 10k–40k-character runs of the characters it branches on', () => {
    fc.assert(
      fc.property(longRuns, (value) => {
        const started = performance.now()
        splitElements(value)
        extract(`Payment ${value}`)
        try {
          parseParam(`a=${value}`)
        } catch {
          // a refusal is fine; only the time matters here
        }
        expect(performance.now() - started).toBeLessThan(1_000)
      }),
      { numRuns: 20 },
    )
  })
})
