import { describe, expect, it } from 'vitest'
import { parse as parseReceipt } from '../protocol/receipt.js'
import { privateCacheControl, receiptFor, receiptHeaders } from './receipt.js'

const paid = {
  challengeId: 'ch_1',
  route: 'GET /v1/report',
  method: 'tempo',
  amount: '500000',
  currency: '0x20c0000000000000000000000000000000000000',
  settlement: { reference: '0xabc', receipt: { externalId: 'order-7' } },
  settledAt: '2026-12-01T10:00:00.000Z',
}

describe('receiptFor', () => {
  it('says success, the method, the settlement time and reference, and the method’s extra fields', () => {
    expect(parseReceipt(receiptFor(paid))).toStrictEqual({
      status: 'success',
      method: 'tempo',
      timestamp: '2026-12-01T10:00:00.000Z',
      reference: '0xabc',
      externalId: 'order-7',
    })
  })
})

describe('receiptHeaders', () => {
  it('puts the receipt and a private Cache-Control on a 2xx, keeping the upstream’s other directives', () => {
    expect(receiptHeaders(200, 'r', undefined)).toEqual([
      ['Payment-Receipt', 'r'],
      ['Cache-Control', 'private'],
    ])
    expect(receiptHeaders(299, 'r', 'public, max-age=60')).toEqual([
      ['Payment-Receipt', 'r'],
      ['Cache-Control', 'max-age=60, private'],
    ])
  })

  it('gives a non-2xx neither', () => {
    for (const status of [199, 301, 404, 500]) expect(receiptHeaders(status, 'r', 'max-age=60')).toEqual([])
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
