import { Buffer } from 'node:buffer'
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decode, decodeText, encode } from './base64url.js'

describe('base64url.encode', () => {
  it('uses the URL alphabet without padding', () => {
    expect(encode(new Uint8Array([0xfb, 0xff]))).toBe('-_8')
    expect(encode(new Uint8Array([0xfb, 0xef, 0xbe]))).toBe('----')
    expect(encode(new Uint8Array([]))).toBe('')
    expect(encode('f')).toBe('Zg')
    expect(encode('fo')).toBe('Zm8')
    expect(encode('foo')).toBe('Zm9v')
  })

  it('encodes strings as UTF-8', () => {
    expect(encode('€')).toBe(Buffer.from('€', 'utf8').toString('base64url'))
    expect(encode('😀')).toBe('8J-YgA')
  })

  it('respects the view of a subarray', () => {
    const bytes = new Uint8Array([1, 2, 3, 0x66, 0x6f, 0x6f, 9])
    expect(encode(bytes.subarray(3, 6))).toBe('Zm9v')
  })

  it('agrees with Buffer on random data', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = randomBytes(n)
      expect(encode(bytes)).toBe(bytes.toString('base64url'))
    }
  })
})

describe('base64url.decode', () => {
  it('accepts the URL and the standard alphabet, padded or not', () => {
    const expected = new Uint8Array([0xfb, 0xff])
    for (const text of ['-_8', '+/8', '-_8=', '+/8=', '-/8', '+_8=']) expect(decode(text)).toEqual(expected)
    expect(decode('Zg==')).toEqual(new Uint8Array([0x66]))
    expect(decode('Zg')).toEqual(new Uint8Array([0x66]))
    expect(decode('')).toEqual(new Uint8Array([]))
  })

  it('round-trips random data in both alphabets', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = new Uint8Array(randomBytes(n))
      expect(decode(encode(bytes))).toEqual(bytes)
      expect(decode(Buffer.from(bytes).toString('base64'))).toEqual(bytes)
    }
  })

  it('returns a plain Uint8Array', () => {
    expect(Buffer.isBuffer(decode('Zm9v'))).toBe(false)
  })

  it('throws on characters outside both alphabets', () => {
    for (const text of ['Zm9v.', 'Zm 9v', 'Zm9v\n', 'Zm9*', 'Zm=9v', '€€€€'])
      expect(() => decode(text)).toThrow(/unexpected character/)
  })

  it('throws on impossible lengths and bad padding', () => {
    expect(() => decode('Z')).toThrow(/impossible length/)
    expect(() => decode('Zm9vY')).toThrow(/impossible length/)
    expect(() => decode('Zg=')).toThrow(/bad padding/)
    expect(() => decode('Zm9=')).not.toThrow()
    expect(() => decode('Zg===')).toThrow()
    expect(() => decode('=')).toThrow()
  })
})

describe('base64url.decodeText', () => {
  it('decodes UTF-8', () => {
    expect(decodeText('8J-YgA')).toBe('😀')
    expect(decodeText(encode('{"a":"é"}'))).toBe('{"a":"é"}')
  })

  it('throws on invalid UTF-8 instead of substituting U+FFFD', () => {
    expect(() => decodeText(encode(new Uint8Array([0x7b, 0xff, 0x7d])))).toThrow()
    expect(() => decodeText(encode(new Uint8Array([0xed, 0xa0, 0x80])))).toThrow() // encoded surrogate
  })

  it('keeps a leading byte order mark', () => {
    expect(decodeText(encode(new Uint8Array([0xef, 0xbb, 0xbf, 0x31])))).toBe('\ufeff1')
  })
})
