import { Credential as MppxCredential, Challenge as MppxChallenge } from 'mppx'
import { describe, expect, it } from 'vitest'
import { type Challenge, computeId, encodeJson, verifyId } from './challenge.js'
import { type Credential, MAX_CREDENTIAL_BYTES, MalformedCredential, extract, parse, serialize } from './credential.js'

const SECRET = 'test-secret-key-that-is-at-least-32-bytes-long'
const REQUEST = {
  amount: '100',
  currency: 'usd',
  methodDetails: { networkId: 'internal', paymentMethodTypes: ['card'] },
}

function challenge(extra: Partial<Challenge> = {}): Challenge {
  const fields = {
    realm: 'api.example.com',
    method: 'stripe',
    intent: 'charge',
    request: encodeJson(REQUEST),
    expires: '2026-01-01T00:00:00.000Z',
    ...extra,
  }
  return { id: computeId(SECRET, fields), ...fields }
}

function token(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

function malformed(text: string): string {
  try {
    parse(text)
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedCredential)
    return (error as Error).message
  }
  throw new Error('expected MalformedCredential')
}

describe('extract', () => {
  it('finds nothing when there is no Payment scheme', () => {
    expect(extract(undefined)).toEqual({ kind: 'none', others: undefined })
    expect(extract('')).toEqual({ kind: 'none', others: undefined })
    expect(extract([])).toEqual({ kind: 'none', others: undefined })
    expect(extract('Bearer abc')).toEqual({ kind: 'none', others: 'Bearer abc' })
    expect(extract('PaymentX abc')).toEqual({ kind: 'none', others: 'PaymentX abc' })
    expect(extract('Digest realm="Payment abc"')).toEqual({ kind: 'none', others: 'Digest realm="Payment abc"' })
  })

  it('finds a lone Payment credential, case-insensitively, after any whitespace', () => {
    expect(extract('Payment eyJhIjoxfQ')).toEqual({ kind: 'one', token: 'eyJhIjoxfQ', others: undefined })
    expect(extract('payment eyJhIjoxfQ')).toEqual({ kind: 'one', token: 'eyJhIjoxfQ', others: undefined })
    expect(extract('PAYMENT\teyJhIjoxfQ  ')).toEqual({ kind: 'one', token: 'eyJhIjoxfQ', others: undefined })
    expect(extract(['Payment eyJhIjoxfQ'])).toEqual({ kind: 'one', token: 'eyJhIjoxfQ', others: undefined })
  })

  it('keeps the other schemes for the upstream', () => {
    expect(extract('Bearer x, Payment eyJ')).toEqual({ kind: 'one', token: 'eyJ', others: 'Bearer x' })
    expect(extract('Payment eyJ, Basic dXNlcjpwYXNz')).toEqual({
      kind: 'one',
      token: 'eyJ',
      others: 'Basic dXNlcjpwYXNz',
    })
    expect(extract(['Bearer x', 'Payment eyJ', 'Basic YQ=='])).toEqual({
      kind: 'one',
      token: 'eyJ',
      others: 'Bearer x, Basic YQ==',
    })
  })

  it('does not split inside quoted strings', () => {
    const digest = 'Digest username="a, Payment b", realm="r, s", uri="/x", response="\\"q\\""'
    expect(extract(`${digest}, Payment tok`)).toEqual({ kind: 'one', token: 'tok', others: digest })
    expect(extract(`Payment tok, ${digest}`)).toEqual({ kind: 'one', token: 'tok', others: digest })
  })

  it('reports several Payment credentials, in one list or across lines', () => {
    expect(extract('Payment a, Payment b')).toEqual({ kind: 'multiple', others: undefined })
    expect(extract(['Payment a', 'Bearer x', 'payment b'])).toEqual({ kind: 'multiple', others: 'Bearer x' })
  })

  it('treats a bare "Payment" as a (malformed) credential rather than another scheme', () => {
    expect(extract('Bearer x, Payment')).toEqual({ kind: 'one', token: '', others: 'Bearer x' })
    expect(() => parse('')).toThrow(MalformedCredential)
  })
})

describe('parse', () => {
  it('decodes the spec §Example Credential', () => {
    const header =
      'Payment eyJjaGFsbGVuZ2UiOnsiaWQiOiJ4N1RnMnBMcVI5bUt2TndZM2hCY1phIiwicmVhbG0iOiJhcGkuZXhhbXBsZS5jb20iLCJtZXRob2QiOiJleGFtcGxlIiwiaW50ZW50IjoiY2hhcmdlIiwicmVxdWVzdCI6ImV5SmhiVzkxYm5RaU9pSXhNREF3SWl3aVkzVnljbVZ1WTNraU9pSlZVMFFpTENKeVpXTnBjR2xsYm5RaU9pSmhZMk4wWHpFeU15SjkiLCJleHBpcmVzIjoiMjAyNS0wMS0xNVQxMjowNTowMFoifSwicGF5bG9hZCI6eyJwcm9vZiI6IjB4YWJjMTIzLi4uIn19'
    const found = extract(header)
    expect(found.kind).toBe('one')
    const credential = parse((found as { token: string }).token)
    expect(credential).toEqual({
      challenge: {
        id: 'x7Tg2pLqR9mKvNwY3hBcZa',
        realm: 'api.example.com',
        method: 'example',
        intent: 'charge',
        request: 'eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJVU0QiLCJyZWNpcGllbnQiOiJhY2N0XzEyMyJ9',
        expires: '2025-01-15T12:05:00Z',
      },
      payload: { proof: '0xabc123...' },
    })
  })

  it('refuses the §One-Time Charge example credential, which carries no challenge object', () => {
    expect(
      malformed('eyJpZCI6InFCM3dFclR5VTdpT3BBc0Q5ZkdoSmsiLCJwYXlsb2FkIjp7InByZWltYWdlIjoiMHhhYmMxMjMuLi4ifX0'),
    ).toBe('credential has no challenge object')
  })

  it('round-trips with serialize, keeping source and optional fields', () => {
    const credential: Credential = {
      challenge: {
        ...challenge({ digest: 'sha-256=abc=', opaque: encodeJson({ route: '/a' }) }),
        description: 'Coffee',
      },
      payload: { spt: 'spt_123' },
      source: 'did:pkh:eip155:42431:0x742d35Cc6634C0532925a3b844Bc9e7595f8fE00',
    }
    expect(parse(serialize(credential))).toEqual(credential)
  })

  it('decodes leniently (standard alphabet, padding) and drops unknown fields', () => {
    const wire = { challenge: { ...challenge(), extra: 'dropped' }, payload: { a: 1 }, unknown: true }
    const standard = Buffer.from(JSON.stringify(wire)).toString('base64')
    expect(parse(standard)).toEqual({ challenge: challenge(), payload: { a: 1 } })
  })

  it('re-encodes a legacy object-valued opaque with JCS, so the id still verifies', () => {
    const issued = challenge({ opaque: encodeJson({ route: '/a', scope: 's' }) })
    const legacy = { challenge: { ...issued, opaque: { scope: 's', route: '/a' } }, payload: {} }
    const parsed = parse(token(legacy))
    expect(parsed.challenge.opaque).toBe(issued.opaque)
    expect(verifyId([SECRET], parsed.challenge)).toBe(true)
  })

  it('refuses an oversized token without decoding it', () => {
    expect(malformed('A'.repeat(MAX_CREDENTIAL_BYTES + 1))).toBe('credential is larger than 16 KiB')
    expect(malformed('!'.repeat(MAX_CREDENTIAL_BYTES + 1))).toBe('credential is larger than 16 KiB')
    const padded = { challenge: challenge(), payload: { pad: 'x'.repeat(MAX_CREDENTIAL_BYTES / 2) } }
    expect(parse(token(padded)).payload).toEqual(padded.payload)
  })

  it('names the violation', () => {
    const c = challenge()
    const cases: [string, string][] = [
      ['not base64!', 'credential is not valid base64url UTF-8'],
      [Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url'), 'credential is not valid base64url UTF-8'],
      [Buffer.from('{"challenge":').toString('base64url'), 'credential is not valid JSON'],
      [token([1, 2]), 'credential is not a JSON object'],
      [token(null), 'credential is not a JSON object'],
      [token({ payload: {} }), 'credential has no challenge object'],
      [token({ challenge: 'x', payload: {} }), 'credential has no challenge object'],
      [token({ challenge: { ...c, id: '' }, payload: {} }), 'challenge.id is missing or not a non-empty string'],
      [
        token({ challenge: { ...c, realm: undefined }, payload: {} }),
        'challenge.realm is missing or not a non-empty string',
      ],
      [token({ challenge: { ...c, method: 1 }, payload: {} }), 'challenge.method is missing or not a non-empty string'],
      [
        token({ challenge: { ...c, intent: null }, payload: {} }),
        'challenge.intent is missing or not a non-empty string',
      ],
      [
        token({ challenge: { ...c, request: { amount: '1' } }, payload: {} }),
        'challenge.request is missing or not a non-empty string',
      ],
      [
        token({ challenge: { ...c, request: 'bm90IGpzb24' }, payload: {} }),
        'challenge.request is not base64url JSON of an object',
      ],
      [
        token({ challenge: { ...c, request: encodeJson([1]) }, payload: {} }),
        'challenge.request is not base64url JSON of an object',
      ],
      [token({ challenge: { ...c, expires: 1 }, payload: {} }), 'challenge.expires is not a string'],
      [token({ challenge: { ...c, digest: null }, payload: {} }), 'challenge.digest is not a string'],
      [token({ challenge: { ...c, description: {} }, payload: {} }), 'challenge.description is not a string'],
      [
        token({ challenge: { ...c, opaque: { a: 1 } }, payload: {} }),
        'challenge.opaque is neither a string nor a string map',
      ],
      [
        token({ challenge: { ...c, opaque: ['a'] }, payload: {} }),
        'challenge.opaque is neither a string nor a string map',
      ],
      [token({ challenge: c }), 'credential has no payload object'],
      [token({ challenge: c, payload: 'proof' }), 'credential has no payload object'],
      [token({ challenge: c, payload: [] }), 'credential has no payload object'],
      [token({ challenge: c, payload: {}, source: 7 }), 'credential source is not a string'],
    ]
    for (const [text, reason] of cases) expect(malformed(text)).toBe(reason)
  })

  it('never repeats the token or its contents in the error', () => {
    const secret = 'SECRET_SPT_0123456789'
    const texts = [
      token({ challenge: { ...challenge(), id: 0 }, payload: { spt: secret } }),
      token({ challenge: challenge(), payload: secret }),
      Buffer.from(`{"payload":{"spt":"${secret}"`).toString('base64url'),
      `${secret}!`,
    ]
    for (const text of texts) {
      const message = malformed(text)
      expect(message).not.toContain(secret)
      expect(message).not.toContain(text)
    }
  })
})

describe('interop with mppx', () => {
  it('parses what mppx clients serialize', () => {
    const issued = challenge({ opaque: encodeJson({ route: '/paid' }) })
    const theirChallenge = MppxChallenge.deserialize(
      `Payment id="${issued.id}", realm="${issued.realm}", method="${issued.method}", intent="${issued.intent}", request="${issued.request}", expires="${issued.expires}", opaque="${issued.opaque}"`,
    )
    const header = MppxCredential.serialize(
      MppxCredential.from({
        challenge: theirChallenge,
        payload: { spt: 'spt_1' },
        source: 'did:pkh:eip155:1:0x742d35Cc6634C0532925a3b844Bc9e7595f8fE00',
      }),
    )
    const found = extract(`Bearer abc, ${header}`)
    expect(found).toEqual({ kind: 'one', token: header.slice('Payment '.length), others: 'Bearer abc' })
    const credential = parse((found as { token: string }).token)
    expect(credential).toEqual({
      challenge: issued,
      payload: { spt: 'spt_1' },
      source: 'did:pkh:eip155:1:0x742d35Cc6634C0532925a3b844Bc9e7595f8fE00',
    })
    expect(verifyId([SECRET], credential.challenge)).toBe(true)
  })

  it('mppx deserializes what we serialize, and verifies the echoed id', () => {
    const credential: Credential = {
      challenge: {
        ...challenge({ digest: 'sha-256=abc=', opaque: encodeJson({ route: '/paid' }) }),
        description: 'Coffee',
      },
      payload: { hash: '0xabc' },
      source: 'did:pkh:eip155:42431:0x742d35Cc6634C0532925a3b844Bc9e7595f8fE00',
    }
    const theirs = MppxCredential.deserialize(`Payment ${serialize(credential)}`)
    expect(theirs.payload).toEqual(credential.payload)
    expect(theirs.source).toBe(credential.source)
    expect(theirs.challenge.id).toBe(credential.challenge.id)
    expect(theirs.challenge.opaque).toBe(credential.challenge.opaque)
    expect(theirs.challenge.digest).toBe(credential.challenge.digest)
    expect(theirs.challenge.description).toBe('Coffee')
    expect(theirs.challenge.request).toEqual(REQUEST)
    expect(MppxChallenge.verify(theirs.challenge, { secretKey: SECRET })).toBe(true)
  })
})
