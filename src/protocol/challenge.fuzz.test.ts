import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Challenge, decodeJson, encodeJson, parseList, serialize, verifyId } from './challenge.js'
import { authFieldValue, headerText, longRuns } from '../../test/support/fuzz.js'

const SECRET = 'fuzz-secret-key-that-is-at-least-32-bytes-long'

const nonEmpty = headerText({ minLength: 1, maxLength: 40 })
/** Any challenge the serializer accepts: printable ASCII values, the required ones non-empty. */
const challenge: fc.Arbitrary<Challenge> = fc.record(
  {
    id: nonEmpty,
    realm: headerText({ maxLength: 40 }),
    method: nonEmpty,
    intent: nonEmpty,
    request: nonEmpty,
    description: headerText({ maxLength: 40 }),
    digest: headerText({ maxLength: 40 }),
    expires: headerText({ maxLength: 40 }),
    opaque: headerText({ maxLength: 40 }),
  },
  { requiredKeys: ['id', 'realm', 'method', 'intent', 'request'] },
)

describe('WWW-Authenticate Payment challenges, fuzzed', () => {
  it('parseList(serialize(c)) = [c], also with several challenges and other schemes on one line', () => {
    fc.assert(
      fc.property(fc.array(challenge, { minLength: 1, maxLength: 3 }), fc.boolean(), (challenges, withOther) => {
        const line = [
          ...(withOther ? ['Bearer realm="x", error="invalid_token"'] : []),
          ...challenges.map(serialize),
        ].join(', ')
        expect(parseList(line)).toEqual(challenges)
      }),
      { numRuns: 1_000 },
    )
  })

  it('parseList throws only a plain Error, on any field value', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          authFieldValue,
          authFieldValue.map((v) => `Payment ${v}`),
          fc.string({ unit: 'binary' }),
        ),
        (value) => {
          try {
            for (const parsed of parseList(value)) {
              for (const name of ['id', 'method', 'intent', 'request'] as const) expect(parsed[name]).not.toBe('')
            }
          } catch (error) {
            expect((error as Error).constructor).toBe(Error)
          }
        },
      ),
      { numRuns: 2_000 },
    )
  })

  it('verifyId never throws and accepts only the issued fields, whatever is echoed', () => {
    const issued = {
      realm: 'api.example.com',
      method: 'tempo',
      intent: 'charge',
      request: encodeJson({ amount: '1' }),
      expires: '2026-12-01T00:00:00.000Z',
    }
    fc.assert(
      fc.property(
        fc.record({
          id: fc.string(),
          realm: fc.string(),
          method: fc.string(),
          intent: fc.string(),
          request: fc.oneof(fc.string(), fc.constant(issued.request)),
          opaque: fc.option(fc.string(), { nil: undefined }),
        }),
        (echoed) => {
          expect(verifyId([SECRET], echoed as Challenge)).toBe(false)
        },
      ),
      { numRuns: 1_000 },
    )
  })

  it('encodeJson/decodeJson round-trip any JSON value, whatever its key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(decodeJson(encodeJson(value))).toEqual(JSON.parse(JSON.stringify(value)))
      }),
      { numRuns: 500 },
    )
  })

  it('parseList answers within a second on 10k–40k-character runs', () => {
    fc.assert(
      fc.property(longRuns, (value) => {
        const started = performance.now()
        try {
          parseList(`Payment ${value}`)
        } catch {
          // refusing is fine; only the time matters here
        }
        expect(performance.now() - started).toBeLessThan(1_000)
      }),
      { numRuns: 20 },
    )
  })
})
