import { describe, expect, it } from 'vitest'
import { checkSchema } from './issues.js'
import { maxBodyBytesSchema, priceSchema, routeFields, splitsSchema } from './route-schema.js'

const RECIPIENT = '0x742d35Cc6634C0532925a3b844Bc454e4438f44e'
const MEMO = `0x${'AB'.repeat(32)}`

describe('route field schemas', () => {
  it('reads a match as written, with its method upper-cased', () => {
    expect(checkSchema(routeFields.match, 'get /v1/models', 'routes[0].match')).toEqual({
      ok: true,
      data: { match: 'get /v1/models', method: 'GET', path: '/v1/models' },
    })
    expect(checkSchema(routeFields.match, undefined, 'routes[0].match')).toEqual({
      ok: false,
      issues: [{ path: 'routes[0].match', problem: 'is required', aboutValue: true }],
    })
  })

  it('reads "free" and exact decimal prices, and refuses YAML numbers', () => {
    expect(checkSchema(priceSchema, 'free', 'p')).toEqual({ ok: true, data: { kind: 'free' } })
    expect(checkSchema(priceSchema, '0.50', 'p')).toEqual({
      ok: true,
      data: { kind: 'charge', amount: { text: '0.50', units: 50n, scale: 2 } },
    })
    expect(checkSchema(priceSchema, 0.5, 'p')).toEqual({
      ok: false,
      issues: [
        {
          path: 'p',
          problem: 'must be a quoted decimal string like "0.50" (YAML numbers are floats)',
          aboutValue: true,
        },
      ],
    })
  })

  it('defaults maxBodyBytes to 1 MiB and takes only positive whole numbers', () => {
    expect(checkSchema(maxBodyBytesSchema, undefined, 'm')).toEqual({ ok: true, data: 1_048_576 })
    expect(checkSchema(maxBodyBytesSchema, -1, 'm')).toEqual({
      ok: false,
      issues: [{ path: 'm', problem: 'must be a positive integer number of bytes (got -1)', aboutValue: true }],
    })
  })

  it('reads splits with checksum recipients and lower-case memos, reporting each bad split at its index', () => {
    const split = new Map<string, unknown>([
      ['recipient', RECIPIENT.toLowerCase()],
      ['amount', '0.01'],
      ['memo', MEMO],
    ])
    expect(checkSchema(splitsSchema, [split], 's')).toEqual({
      ok: true,
      data: [{ recipient: RECIPIENT, amount: { text: '0.01', units: 1n, scale: 2 }, memo: MEMO.toLowerCase() }],
    })
    const bad = new Map<string, unknown>([
      ['recipient', RECIPIENT],
      ['amont', '0.01'],
    ])
    expect(checkSchema(splitsSchema, [split, bad], 's')).toEqual({
      ok: false,
      issues: [
        { path: 's[1].amont', problem: 'unknown key (did you mean "amount"?)', aboutValue: false },
        { path: 's[1].amount', problem: 'is required', aboutValue: true },
      ],
    })
    expect(
      checkSchema(
        splitsSchema,
        Array.from({ length: 11 }, () => split),
        's',
      ),
    ).toEqual({
      ok: false,
      issues: [{ path: 's', problem: 'has 11 entries; at most 10 are allowed', aboutValue: true }],
    })
  })

  it('takes shadows: ok and nothing else', () => {
    expect(checkSchema(routeFields.shadows, 'ok', 'x')).toEqual({ ok: true, data: true })
    expect(checkSchema(routeFields.shadows, undefined, 'x')).toEqual({ ok: true, data: false })
    expect(checkSchema(routeFields.shadows, 'yes', 'x')).toEqual({
      ok: false,
      issues: [{ path: 'x', problem: 'must be "ok" (got "yes")', aboutValue: true }],
    })
  })
})
