import { describe, expect, it } from 'vitest'
import { forwardableRequestHeaders, forwardableResponseHeaders, privateCacheControl } from './headers.js'

describe('forwardableRequestHeaders', () => {
  it('drops hop-by-hop, Connection-listed and gateway-owned headers, keeps the rest in order', () => {
    const raw = [
      'Host', 'gw.example',
      'Connection', 'keep-alive, X-Hop',
      'X-Hop', '1',
      'Authorization', 'Payment abc',
      'Accept-Payment', 'stripe/charge',
      'Cookie', 'session=1',
      'X-Forwarded-For', '6.6.6.6',
      'Content-Type', 'application/json',
      'Content-Length', '12',
      'Transfer-Encoding', 'chunked',
      'X-Custom', 'a',
    ]
    expect(forwardableRequestHeaders(raw, false)).toEqual([
      ['Cookie', 'session=1'],
      ['Content-Type', 'application/json'],
      ['Content-Length', '12'],
      ['X-Custom', 'a'],
    ])
    expect(forwardableRequestHeaders(raw, true).map(([n]) => n)).not.toContain('Content-Length')
  })
})

describe('forwardableResponseHeaders', () => {
  it('keeps repeated Set-Cookie lines and content encoding, drops hop-by-hop', () => {
    const raw = ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Keep-Alive', 'timeout=5', 'Content-Encoding', 'gzip', 'Transfer-Encoding', 'chunked']
    expect(forwardableResponseHeaders(raw)).toEqual([
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['Content-Encoding', 'gzip'],
    ])
  })
})

describe('privateCacheControl', () => {
  it('adds private, replacing public', () => {
    expect(privateCacheControl(undefined)).toBe('private')
    expect(privateCacheControl('max-age=60')).toBe('max-age=60, private')
    expect(privateCacheControl('public, max-age=60')).toBe('max-age=60, private')
    expect(privateCacheControl('no-store')).toBe('no-store, private')
  })
})
