import { Receipt as MppxReceipt } from 'mppx'
import { describe, expect, it } from 'vitest'
import { type Receipt, parse, serialize } from './receipt.js'

const SPEC_RECEIPT =
  'eyJzdGF0dXMiOiJzdWNjZXNzIiwibWV0aG9kIjoiaW52b2ljZSIsInRpbWVzdGFtcCI6IjIwMjUtMDEtMTVUMTI6MDA6MDBaIiwicmVmZXJlbmNlIjoiaW52XzEyMzQ1In0'

function encoded(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

describe('receipt', () => {
  it('parses the spec §One-Time Charge Payment-Receipt', () => {
    expect(parse(SPEC_RECEIPT)).toEqual({
      status: 'success',
      method: 'invoice',
      timestamp: '2025-01-15T12:00:00Z',
      reference: 'inv_12345',
    })
  })

  it('serializes as unpadded base64url of JSON.stringify, byte-identical to the spec example', () => {
    const receipt: Receipt = {
      status: 'success',
      method: 'invoice',
      timestamp: '2025-01-15T12:00:00Z',
      reference: 'inv_12345',
    }
    expect(serialize(receipt)).toBe(SPEC_RECEIPT)
  })

  it('round-trips extra string fields', () => {
    const receipt: Receipt = {
      status: 'success',
      method: 'stripe',
      timestamp: '2026-01-01T00:00:00.123Z',
      reference: 'pi_1',
      externalId: 'order-7',
    }
    expect(parse(serialize(receipt))).toEqual(receipt)
  })

  it('throws on anything that is not a receipt', () => {
    const base = { status: 'success', method: 'm', timestamp: '2026-01-01T00:00:00Z', reference: 'r' }
    expect(() => parse('***')).toThrow(/base64url JSON/)
    expect(() => parse(encoded([base]))).toThrow(/not a JSON object/)
    expect(() => parse(encoded({ ...base, status: 'failed' }))).toThrow(/status/)
    expect(() => parse(encoded({ ...base, method: undefined }))).toThrow(/method/)
    expect(() => parse(encoded({ ...base, reference: 5 }))).toThrow(/reference/)
    expect(() => parse(encoded({ ...base, timestamp: 'yesterday' }))).toThrow(/RFC 3339/)
    expect(() => parse(encoded({ ...base, units: 3 }))).toThrow(/"units"/)
  })

  it('interoperates with mppx in both directions', () => {
    const ours: Receipt = {
      status: 'success',
      method: 'tempo',
      timestamp: '2026-01-01T00:00:00.000Z',
      reference: '0xabc',
      externalId: 'x',
    }
    expect(MppxReceipt.deserialize(serialize(ours))).toEqual(ours)
    const theirs = MppxReceipt.serialize(
      MppxReceipt.from({
        method: 'stripe',
        reference: 'pi_1',
        status: 'success',
        timestamp: '2026-01-01T00:00:00.000Z',
      }),
    )
    expect(parse(theirs)).toEqual({
      method: 'stripe',
      reference: 'pi_1',
      status: 'success',
      timestamp: '2026-01-01T00:00:00.000Z',
    })
    expect(MppxReceipt.deserialize(SPEC_RECEIPT)).toEqual(parse(SPEC_RECEIPT))
  })
})
