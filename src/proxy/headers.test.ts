import { describe, expect, it } from 'vitest'
import {
  asksForPayment,
  forwardableRequestHeaders,
  forwardableResponseHeaders,
  mergeVary,
  strippedRequestHeaders,
} from './headers.js'

describe('forwardableRequestHeaders', () => {
  it('drops hop-by-hop, Connection-listed and gateway-owned headers, keeps the rest in order', () => {
    const raw = [
      'Host',
      'gw.example',
      'Connection',
      'keep-alive, X-Hop',
      'X-Hop',
      '1',
      'Authorization',
      'Payment abc',
      'Accept-Payment',
      'stripe/charge',
      'Cookie',
      'session=1',
      'X-Forwarded-For',
      '6.6.6.6',
      'Content-Type',
      'application/json',
      'Content-Length',
      '12',
      'Transfer-Encoding',
      'chunked',
      'X-Custom',
      'a',
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

describe('forwardableRequestHeaders: headers that re-route, impersonate or unframe', () => {
  it("strips method overrides, rewrite headers, underscore names and the operator's list", () => {
    const raw = [
      'X-HTTP-Method-Override',
      'GET',
      'X-HTTP-Method',
      'GET',
      'X-Method-Override',
      'GET',
      'X-Original-URL',
      '/v1/paid',
      'X-Rewrite-URL',
      '/v1/paid',
      'X-Forwarded-Prefix',
      '/admin',
      'Payment_Receipt',
      'forged',
      'X_Forwarded_For',
      '10.0.0.1',
      'X-Debug-User',
      'root',
      'Accept',
      '*/*',
    ]
    expect(forwardableRequestHeaders(raw, true)).toEqual([
      ['X-Debug-User', 'root'],
      ['Accept', '*/*'],
    ])
    expect(forwardableRequestHeaders(raw, true, strippedRequestHeaders(['x-debug-user']))).toEqual([['Accept', '*/*']])
  })

  it('lets Connection remove no framing or gateway header', () => {
    const raw = [
      'Connection',
      'content-length, host, X-Forwarded-Port, x-hop',
      'Content-Length',
      '5',
      'X-Forwarded-Port',
      '443',
      'X-Hop',
      '1',
    ]
    // X-Forwarded-Port goes anyway: every client X-Forwarded-* is dropped, the gateway sets its own
    expect(forwardableRequestHeaders(raw, false)).toEqual([['Content-Length', '5']])
    expect(forwardableResponseHeaders(['Connection', 'Content-Length', 'Content-Length', '5'])).toEqual([
      ['Content-Length', '5'],
    ])
  })
})

describe('forwardableResponseHeaders', () => {
  it('never relays an upstream Payment-Receipt', () => {
    expect(
      forwardableResponseHeaders(['Payment-Receipt', 'eyJmb3JnZWQiOnRydWV9', 'payment-receipt', 'x', 'ETag', '"1"']),
    ).toEqual([['ETag', '"1"']])
  })

  it('keeps repeated Set-Cookie lines and content encoding, drops hop-by-hop', () => {
    const raw = [
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
      'Keep-Alive',
      'timeout=5',
      'Content-Encoding',
      'gzip',
      'Transfer-Encoding',
      'chunked',
    ]
    expect(forwardableResponseHeaders(raw)).toEqual([
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['Content-Encoding', 'gzip'],
    ])
  })
})

describe('asksForPayment', () => {
  it('is true for a 402 or a Payment challenge among others, false otherwise', () => {
    expect(asksForPayment(402, undefined)).toBe(true)
    expect(asksForPayment(401, 'Bearer realm="a", Payment id="x", realm="a", method="stripe"')).toBe(true)
    expect(asksForPayment(200, ['Basic realm="a"', 'payment id="x"'])).toBe(true)
    expect(asksForPayment(401, 'Bearer realm="Payment x, Payment y"')).toBe(false)
    expect(asksForPayment(401, 'Bearer error="invalid_token"')).toBe(false)
    expect(asksForPayment(200, undefined)).toBe(false)
  })
})

describe('mergeVary', () => {
  it.each([
    [['Accept-Encoding'], ['Origin'], 'Accept-Encoding, Origin'],
    [['Accept-Encoding, origin'], ['Origin'], 'Accept-Encoding, origin'],
    [[], ['Origin'], 'Origin'],
    [['Accept', 'Accept-Language'], ['Origin'], 'Accept, Accept-Language, Origin'],
    [['*'], ['Origin'], '*'],
  ])('%j then %j gives %s', (first, second, merged) => {
    expect(mergeVary(first, second)).toBe(merged)
  })
})
