import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as base64url from './base64url.js'
import { encodeJson } from './challenge.js'
import { type Credential, MalformedCredential, parse, serialize } from './credential.js'
import { longRuns } from '../../test/support/fuzz.js'

const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 })
const credential: fc.Arbitrary<Credential> = fc.record(
  {
    challenge: fc.record(
      {
        id: text,
        realm: text,
        method: text,
        intent: text,
        request: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })).map(encodeJson),
        description: fc.string(),
        digest: fc.string(),
        expires: fc.string(),
        opaque: fc.dictionary(fc.string(), fc.string()).map(encodeJson),
      },
      { requiredKeys: ['id', 'realm', 'method', 'intent', 'request'] },
    ),
    payload: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })),
    source: fc.string(),
  },
  { requiredKeys: ['challenge', 'payload'] },
)

/** Throws only MalformedCredential (a 402 malformed-credential), never anything else. */
function parsesOrRefuses(token: string): void {
  try {
    parse(token)
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedCredential)
  }
}

describe('Authorization: Payment credentials, fuzzed', () => {
  it('parse(serialize(c)) = c for any well-formed credential', () => {
    fc.assert(
      fc.property(credential, (c) => {
        expect(parse(serialize(c))).toEqual(JSON.parse(JSON.stringify(c)))
      }),
      { numRuns: 300 },
    )
  })

  it('refuses anything else with MalformedCredential only: random tokens, and base64url of any JSON', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.base64String(),
          fc.jsonValue().map((v) => base64url.encode(JSON.stringify(v))),
        ),
        parsesOrRefuses,
      ),
      { numRuns: 2_000 },
    )
  })

  it('refuses credentials with one field of the wrong type or shape with MalformedCredential only', () => {
    const field = fc.constantFrom(
      'id',
      'realm',
      'method',
      'intent',
      'request',
      'description',
      'digest',
      'expires',
      'opaque',
    )
    fc.assert(
      fc.property(
        credential,
        field,
        fc.jsonValue({ maxDepth: 2 }),
        fc.constantFrom('challenge', 'payload', 'source', ''),
        (c, name, value, top) => {
          const json = JSON.parse(JSON.stringify(c)) as Record<string, Record<string, unknown>>
          if (top === '') json.challenge![name] = value
          else (json as Record<string, unknown>)[top] = value
          parsesOrRefuses(base64url.encode(JSON.stringify(json)))
        },
      ),
      { numRuns: 600 },
    )
  })

  it('answers within a second on long runs (the size cap comes first)', () => {
    fc.assert(
      fc.property(longRuns, (value) => {
        const started = performance.now()
        parsesOrRefuses(value)
        parsesOrRefuses(base64url.encode(value).slice(0, 16 * 1024))
        expect(performance.now() - started).toBeLessThan(1_000)
      }),
      { numRuns: 20 },
    )
  })
})
