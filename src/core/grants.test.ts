import { describe, expect, it } from 'vitest'
import { hashKey, idFromResponse, judgeGrant, looksLikeKey, mintKey, parseIdSource, resolvePointer } from './grants.js'

describe('grant keys', () => {
  it('mints 256-bit base64url keys with the mppk_ prefix, each different', () => {
    const keys = new Set(Array.from({ length: 100 }, () => mintKey()))
    expect(keys.size).toBe(100)
    for (const key of keys) expect(key).toMatch(/^mppk_[A-Za-z0-9_-]{43}$/)
  })

  it('stores a key by its hex SHA-256 (FIPS 180-2 "abc" vector)', () => {
    expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  it('tells a key-shaped token from junk, so junk never reaches the store', () => {
    expect(looksLikeKey(mintKey())).toBe(true)
    expect(looksLikeKey('garbage')).toBe(false)
    expect(looksLikeKey('mppk_bad key')).toBe(false)
  })
})

describe('where the id comes from', () => {
  it('parses response-body pointers and header names, and says what is wrong otherwise', () => {
    expect(parseIdSource('response-body:/id')).toEqual({ from: 'response-body', pointer: '/id' })
    expect(parseIdSource('response-body:')).toEqual({ from: 'response-body', pointer: '' })
    expect(parseIdSource('header:Location')).toEqual({ from: 'header', name: 'Location' })
    expect(parseIdSource('response-body:id')).toBe(
      'the JSON Pointer after "response-body:" must be empty or start with "/" (got "id")',
    )
    expect(parseIdSource('response-body:/a~2')).toBe('the JSON Pointer has a "~" not followed by 0 or 1 (RFC 6901)')
    expect(parseIdSource('header:Bad Name')).toBe('"Bad Name" is not a header name')
    expect(parseIdSource('body:/id')).toMatch(/^must be "response-body:<JSON Pointer>"/)
  })

  it('resolves RFC 6901 pointers (the §5 examples)', () => {
    const doc = { foo: ['bar', 'baz'], '': 0, 'a/b': 1, 'm~n': 8, ' ': 7 }
    expect(resolvePointer(doc, '')).toBe(doc)
    expect(resolvePointer(doc, '/foo/0')).toBe('bar')
    expect(resolvePointer(doc, '/')).toBe(0)
    expect(resolvePointer(doc, '/a~1b')).toBe(1)
    expect(resolvePointer(doc, '/m~0n')).toBe(8)
    expect(resolvePointer(doc, '/ ')).toBe(7)
    expect(resolvePointer(doc, '/foo/01')).toBeUndefined()
    expect(resolvePointer(doc, '/toString')).toBeUndefined()
  })

  it('reads a string or integer id from a JSON body, and nothing else', () => {
    const body = (value: unknown) => Buffer.from(JSON.stringify(value))
    const at = { from: 'response-body', pointer: '/order/id' } as const
    expect(idFromResponse(at, {}, body({ order: { id: 'ord_1' } }))).toBe('ord_1')
    expect(idFromResponse(at, {}, body({ order: { id: 42 } }))).toBe('42')
    expect(idFromResponse(at, {}, body({ order: { id: 1.5 } }))).toBeUndefined()
    expect(idFromResponse(at, {}, body({ order: { id: '' } }))).toBeUndefined()
    expect(idFromResponse(at, {}, body({ order: {} }))).toBeUndefined()
    expect(idFromResponse(at, {}, Buffer.from('not json'))).toBeUndefined()
    expect(idFromResponse(at, {}, undefined)).toBeUndefined()
  })

  it('reads an id from a header: the whole value, or the last path segment of a URL', () => {
    const from = (name: string) => ({ from: 'header', name }) as const
    expect(idFromResponse(from('X-Order-Id'), { 'x-order-id': 'ord_1' }, undefined)).toBe('ord_1')
    expect(idFromResponse(from('Location'), { location: '/agent/orders/ord_7' }, undefined)).toBe('ord_7')
    expect(idFromResponse(from('Location'), { location: 'https://api.example/orders/ord%208/' }, undefined)).toBe(
      'ord 8',
    )
    expect(idFromResponse(from('Location'), {}, undefined)).toBeUndefined()
  })
})

describe('judging a presented key', () => {
  const record = { grant: 'order', id: 'ord_1', expiresAt: 10_000 }
  it('lets a live key through for its own grant and id only', () => {
    expect(judgeGrant(record, 'order', 'ord_1', 9_999)).toEqual({ ok: true })
    expect(judgeGrant(record, 'order', 'ord_2', 0)).toEqual({
      ok: false,
      reason: 'wrong-scope',
      detail: 'The key was issued for another resource.',
    })
    expect(judgeGrant(record, 'invoice', 'ord_1', 0)).toMatchObject({ ok: false, reason: 'wrong-scope' })
  })

  it('refuses an expired key from its expiry on, and an unknown one', () => {
    expect(judgeGrant(record, 'order', 'ord_1', 10_000)).toEqual({
      ok: false,
      reason: 'expired',
      detail: 'The key expired at 1970-01-01T00:00:10.000Z.',
    })
    expect(judgeGrant(undefined, 'order', 'ord_1', 0)).toEqual({
      ok: false,
      reason: 'invalid',
      detail: 'The key is not one this gateway issued.',
    })
  })
})
