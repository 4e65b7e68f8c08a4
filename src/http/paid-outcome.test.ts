import { describe, expect, it } from 'vitest'
import { paidResult } from './paid-outcome.js'

describe('paidResult', () => {
  it('a 2xx delivered in full is served, with its byte counts', () => {
    expect(paidResult({ ok: true, status: 200 }, { end: 'complete', bytesSent: 42, bytesExpected: 42 })).toStrictEqual({
      outcome: 'served',
      upstreamStatus: 200,
      bytesSent: 42,
      bytesExpected: 42,
    })
    expect(paidResult({ ok: true, status: 204 }, { end: 'complete', bytesSent: 0 })).toStrictEqual({
      outcome: 'served',
      upstreamStatus: 204,
      bytesSent: 0,
    })
  })

  it('a 2xx cut short is cut; a non-2xx is an upstream error; a client that left is client-gone', () => {
    expect(paidResult({ ok: true, status: 200 }, { end: 'cut', bytesSent: 5, bytesExpected: 100 })).toStrictEqual({
      outcome: 'cut',
      upstreamStatus: 200,
      bytesSent: 5,
      bytesExpected: 100,
    })
    expect(paidResult({ ok: true, status: 503 }, { end: 'complete', bytesSent: 9 })).toStrictEqual({
      outcome: 'upstream-error',
      upstreamStatus: 503,
      bytesSent: 9,
    })
    expect(paidResult({ ok: true, status: 302 }, { end: 'complete', bytesSent: 0 })).toMatchObject({
      outcome: 'upstream-error',
    })
    expect(paidResult({ ok: true, status: 200 }, { end: 'client-gone', bytesSent: 3 })).toStrictEqual({
      outcome: 'client-gone',
      upstreamStatus: 200,
      bytesSent: 3,
    })
  })

  it('no relayed answer: the failure, with the status the upstream sent when there was one', () => {
    expect(paidResult({ ok: false, failure: 'payment-challenge', status: 402, message: '' }, undefined)).toStrictEqual({
      outcome: 'upstream-challenge',
      upstreamStatus: 402,
    })
    expect(paidResult({ ok: false, failure: 'timeout', message: '' }, undefined)).toStrictEqual({
      outcome: 'upstream-timeout',
      upstreamStatus: 0,
    })
    expect(paidResult({ ok: false, failure: 'connect', message: '' }, undefined)).toStrictEqual({
      outcome: 'upstream-unreachable',
      upstreamStatus: 0,
    })
  })
})
