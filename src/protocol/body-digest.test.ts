import { createHash } from 'node:crypto'
import { BodyDigest as MppxBodyDigest } from 'mppx'
import { describe, expect, it } from 'vitest'
import { compute, matches } from './body-digest.js'

const HELLO = new TextEncoder().encode('{"hello": "world"}')
// The digest value shown in the spec (§Request Body Digest Binding), RFC 9530's example body.
const HELLO_B64 = 'X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE='

describe('compute', () => {
  it('gives sha-256=<padded standard base64>, the form mppx produces', () => {
    expect(compute(HELLO)).toBe(`sha-256=${HELLO_B64}`)
    expect(compute(HELLO)).toBe(MppxBodyDigest.compute('{"hello": "world"}'))
    expect(compute(new Uint8Array([]))).toBe(`sha-256=${createHash('sha256').digest('base64')}`)
  })

  it('uses the standard alphabet', () => {
    // This body's digest contains "+" or "/" in standard base64.
    const body = new TextEncoder().encode('a')
    expect(compute(body)).toBe('sha-256=ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs=')
  })
})

describe('matches', () => {
  it('accepts the mppx form and the RFC 9530 form', () => {
    expect(matches(`sha-256=${HELLO_B64}`, HELLO)).toBe(true)
    expect(matches(`sha-256=:${HELLO_B64}:`, HELLO)).toBe(true)
    expect(matches(compute(HELLO), HELLO)).toBe(true)
    expect(MppxBodyDigest.verify(compute(HELLO) as `sha-256=${string}`, '{"hello": "world"}')).toBe(true)
  })

  it('is lenient about padding, alphabet and algorithm-name case', () => {
    expect(matches(`sha-256=${HELLO_B64.replace(/=$/, '')}`, HELLO)).toBe(true)
    expect(matches('SHA-256=ypeBEsobvcr6wjGzmiPcTaeG7_gUfE5yuYB3ha_uSLs', new TextEncoder().encode('a'))).toBe(true)
  })

  it('requires every sha-256 member to match and ignores other algorithms', () => {
    const sha512 = createHash('sha512').update(HELLO).digest('base64')
    expect(matches(`sha-512=:${sha512}:, sha-256=:${HELLO_B64}:`, HELLO)).toBe(true)
    expect(matches(`unknown=:AAAA:, sha-256=:${HELLO_B64}:`, HELLO)).toBe(true)
    expect(matches(`sha-256=:${HELLO_B64}:;param=1`, HELLO)).toBe(true)
    expect(matches(`sha-512=:${sha512}:`, HELLO)).toBe(false)
    expect(matches(`sha-256=:${HELLO_B64}:, sha-256=:${compute(new Uint8Array([1])).slice(8)}:`, HELLO)).toBe(false)
  })

  it('rejects other bodies and malformed values', () => {
    expect(matches(`sha-256=${HELLO_B64}`, new TextEncoder().encode('{"hello":"world"}'))).toBe(false)
    for (const value of [
      '',
      'sha-256=',
      'sha-256=::',
      'sha-256=:abc',
      'sha-256=not base64!',
      `sha-256=${HELLO_B64.slice(0, 20)}`,
      HELLO_B64,
      `=${HELLO_B64}`,
      ',',
    ]) {
      expect(matches(value, HELLO), value).toBe(false)
    }
  })
})
