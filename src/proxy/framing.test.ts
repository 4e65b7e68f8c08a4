import { describe, expect, it } from 'vitest'
import { requestFraming } from './framing.js'

describe('requestFraming', () => {
  it('tells no body, a length, chunked and codings that cannot be passed on apart', () => {
    expect(requestFraming({})).toBe('none')
    expect(requestFraming({ 'content-length': '0' })).toBe('length')
    expect(requestFraming({ 'content-length': '12' })).toBe('length')
    for (const te of ['chunked', 'Chunked', 'CHUNKED', ' chunked '])
      expect(requestFraming({ 'transfer-encoding': te }), te).toBe('chunked')
    for (const te of ['gzip, chunked', 'deflate', 'chunked, gzip'])
      expect(requestFraming({ 'transfer-encoding': te }), te).toBe('unsupported')
  })
})
