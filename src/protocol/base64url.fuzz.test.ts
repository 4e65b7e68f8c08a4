import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decode, decodeText, encode } from './base64url.js'

describe('base64url, fuzzed', () => {
  it('decode(encode(bytes)) = bytes, and the output is unpadded URL alphabet', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = encode(bytes)
        expect(text).toMatch(/^[A-Za-z0-9_-]*$/)
        expect(decode(text)).toEqual(bytes)
      }),
      { numRuns: 2_000 },
    )
  })

  it('reads the standard alphabet, padded, as the same bytes (lenient like mppx)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(decode(Buffer.from(bytes).toString('base64'))).toEqual(bytes)
      }),
      { numRuns: 1_000 },
    )
  })

  it('decodeText(encode(s)) = s for any well-formed Unicode string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), (s) => {
        expect(decodeText(encode(s))).toBe(s)
      }),
      { numRuns: 1_000 },
    )
  })

  it('on any string, decode returns what a standard decoder reads or throws an Error; decodeText also a TypeError for bad UTF-8', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 60 }),
          fc.base64String(),
          fc.stringMatching(/^[A-Za-z0-9_=+/-]{0,40}$/),
        ),
        (text) => {
          let bytes: Uint8Array | undefined
          try {
            bytes = decode(text)
          } catch (error) {
            expect((error as Error).constructor).toBe(Error)
          }
          // Non-zero trailing bits ("AB" for one zero byte) are ignored, as RFC 4648 §3.5 allows and mppx's reader
          // does: harmless, since single use is keyed on the HMAC-bound challenge id, never on the token's bytes.
          if (bytes)
            expect(Buffer.from(bytes).equals(Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64'))).toBe(
              true,
            )
          try {
            decodeText(text)
          } catch (error) {
            expect([Error, TypeError]).toContain((error as Error).constructor)
          }
        },
      ),
      { numRuns: 2_000 },
    )
  })
})
