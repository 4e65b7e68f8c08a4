import { createHmac } from 'node:crypto'
import { Challenge as Mppx } from 'mppx'
import { describe, expect, it } from 'vitest'
import {
  type BoundFields,
  type Challenge,
  bindingInput,
  computeId,
  decodeJson,
  encodeJson,
  parseList,
  serialize,
  verifyId,
} from './challenge.js'

const SECRET = 'test-secret-key-that-is-at-least-32-bytes-long'
const OTHER_SECRET = 'another-secret-key-that-is-at-least-32-bytes!!'

/** The spec shows headers line-folded for reading; on the wire they are one line. */
function unfold(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ')
}

const REQUEST = {
  amount: '1000000',
  currency: '0x20c0000000000000000000000000000000000000',
  recipient: '0x742d35Cc6634C0532925a3b844Bc9e7595f8fE00',
  methodDetails: { chainId: 42431 },
}

function bound(extra: Partial<BoundFields> = {}): BoundFields {
  return { realm: 'api.example.com', method: 'tempo', intent: 'charge', request: encodeJson(REQUEST), ...extra }
}

function issue(extra: Partial<BoundFields> = {}, description?: string): Challenge {
  const fields = bound(extra)
  return { id: computeId(SECRET, fields), ...fields, ...(description !== undefined && { description }) }
}

describe('spec examples', () => {
  it('parses §Example Challenge; its request bytes say "USD" (the displayed JSON says "usd")', () => {
    const header = unfold(`Payment id="x7Tg2pLqR9mKvNwY3hBcZa",
    realm="api.example.com",
    method="example",
    intent="charge",
    expires="2025-01-15T12:05:00Z",
    request="eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJVU0QiLCJyZWNpcGllbnQiOiJhY2N0XzEyMyJ9"`)
    const [challenge, ...rest] = parseList(header)
    expect(rest).toEqual([])
    expect(challenge).toEqual({
      id: 'x7Tg2pLqR9mKvNwY3hBcZa',
      realm: 'api.example.com',
      method: 'example',
      intent: 'charge',
      expires: '2025-01-15T12:05:00Z',
      request: 'eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJVU0QiLCJyZWNpcGllbnQiOiJhY2N0XzEyMyJ9',
    })
    expect(decodeJson(challenge!.request)).toEqual({ amount: '1000', currency: 'USD', recipient: 'acct_123' })
    // The example request is already canonical, so re-encoding it is the identity.
    expect(encodeJson(decodeJson(challenge!.request))).toBe(challenge!.request)
  })

  it('parses the §One-Time Charge challenge', () => {
    const header = unfold(`Payment id="qB3wErTyU7iOpAsD9fGhJk",
    realm="api.example.com",
    method="invoice",
    intent="charge",
    expires="2025-01-15T12:05:00Z",
    request="eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJVU0QiLCJpbnZvaWNlIjoiaW52XzEyMzQ1In0"`)
    const [challenge] = parseList(header)
    expect(challenge?.id).toBe('qB3wErTyU7iOpAsD9fGhJk')
    expect(challenge?.method).toBe('invoice')
    expect(decodeJson(challenge!.request)).toEqual({ amount: '1000', currency: 'USD', invoice: 'inv_12345' })
  })

  it('parses the §Request Body Digest Binding digest parameter', () => {
    const header = unfold(`Payment id="abc",
    realm="api.example.com",
    method="example",
    intent="charge",
    digest="sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
    expires="2025-01-15T12:05:00Z",
    request="e30"`)
    expect(parseList(header)[0]?.digest).toBe('sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:')
  })

  it('parses §Multiple Payment Options sent as separate lines and folded into one', () => {
    const lines = [
      'Payment id="pT7yHnKmQ2wErXsZ5vCbNl", realm="api.example.com", method="invoice", intent="charge", request="e30"',
      'Payment id="mF8uJkLpO3qRtYsA6wDcVb", realm="api.example.com", method="signed", intent="charge", request="e30"',
    ]
    const folded = parseList(lines.join(', '))
    expect(folded.map((c) => [c.id, c.method])).toEqual([
      ['pT7yHnKmQ2wErXsZ5vCbNl', 'invoice'],
      ['mF8uJkLpO3qRtYsA6wDcVb', 'signed'],
    ])
    expect(lines.flatMap(parseList)).toEqual(folded)
  })
})

describe('encodeJson / decodeJson', () => {
  it('encodes JCS as unpadded base64url', () => {
    expect(encodeJson({ b: 1, a: 'x' })).toBe(Buffer.from('{"a":"x","b":1}').toString('base64url'))
  })

  it('decodes leniently but throws on bad base64, UTF-8 or JSON', () => {
    expect(decodeJson(Buffer.from('{"a":1}').toString('base64'))).toEqual({ a: 1 })
    expect(() => decodeJson('!!!')).toThrow()
    expect(() => decodeJson(Buffer.from([0x22, 0xff, 0x22]).toString('base64url'))).toThrow()
    expect(() => decodeJson(Buffer.from('{a:1}').toString('base64url'))).toThrow()
  })
})

describe('bindingInput / computeId', () => {
  it('always has seven slots, empty for absent optional fields', () => {
    expect(bindingInput({ realm: 'r', method: 'm', intent: 'i', request: 'q' })).toBe('r|m|i|q|||')
    expect(bindingInput({ realm: 'r', method: 'm', intent: 'i', request: 'q', expires: 'e' })).toBe('r|m|i|q|e||')
    expect(bindingInput({ realm: 'r', method: 'm', intent: 'i', request: 'q', digest: 'd' })).toBe('r|m|i|q||d|')
    expect(
      bindingInput({ realm: 'r', method: 'm', intent: 'i', request: 'q', expires: 'e', digest: 'd', opaque: 'o' }),
    ).toBe('r|m|i|q|e|d|o')
  })

  it('is base64url(HMAC-SHA256(secret, input)) without padding', () => {
    const fields = bound({ expires: '2026-01-01T00:00:00.000Z' })
    const expected = createHmac('sha256', Buffer.from(SECRET, 'utf8'))
      .update(Buffer.from(bindingInput(fields), 'utf8'))
      .digest('base64url')
    expect(computeId(SECRET, fields)).toBe(expected)
    expect(computeId(SECRET, fields)).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('gives (expires, no digest) and (no expires, digest) different ids', () => {
    expect(computeId(SECRET, bound({ expires: 'x' }))).not.toBe(computeId(SECRET, bound({ digest: 'x' })))
  })
})

describe('verifyId', () => {
  it('accepts an id issued under any of the keys (rotation)', () => {
    const challenge = issue({ expires: '2026-01-01T00:00:00.000Z', opaque: encodeJson({ route: '/a' }) })
    expect(verifyId([SECRET], challenge)).toBe(true)
    expect(verifyId([OTHER_SECRET, SECRET], challenge)).toBe(true)
    expect(verifyId([OTHER_SECRET], challenge)).toBe(false)
    expect(verifyId([], challenge)).toBe(false)
  })

  it('ignores description, which is not bound', () => {
    expect(verifyId([SECRET], { ...issue(), description: 'anything' })).toBe(true)
  })

  it('rejects any change to a bound field', () => {
    const challenge = issue({
      expires: '2026-01-01T00:00:00.000Z',
      digest: 'sha-256=abc=',
      opaque: encodeJson({ route: '/a' }),
    })
    const changes: Partial<Challenge>[] = [
      { realm: 'other.example.com' },
      { method: 'stripe' },
      { intent: 'session' },
      { request: encodeJson({ ...REQUEST, amount: '1' }) },
      { expires: '2027-01-01T00:00:00.000Z' },
      { expires: undefined },
      { digest: 'sha-256=abd=' },
      { digest: undefined },
      { opaque: encodeJson({ route: '/b' }) },
      { opaque: undefined },
      {
        id:
          `${challenge.id.slice(0, -1)}A` === challenge.id
            ? `${challenge.id.slice(0, -1)}B`
            : `${challenge.id.slice(0, -1)}A`,
      },
      { id: challenge.id.slice(1) },
    ]
    for (const change of changes) expect(verifyId([SECRET], { ...challenge, ...change })).toBe(false)
  })

  it('re-canonicalizes the echoed request and opaque (key order, padding, alphabet do not matter)', () => {
    const challenge = issue({ opaque: encodeJson({ b: '2', a: '1' }) })
    const reordered = Buffer.from(
      JSON.stringify({
        recipient: REQUEST.recipient,
        methodDetails: REQUEST.methodDetails,
        currency: REQUEST.currency,
        amount: REQUEST.amount,
      }),
    )
    expect(verifyId([SECRET], { ...challenge, request: reordered.toString('base64') })).toBe(true)
    expect(verifyId([SECRET], { ...challenge, opaque: Buffer.from('{ "b": "2", "a": "1" }').toString('base64') })).toBe(
      true,
    )
  })

  it('returns false, without throwing, on malformed input', () => {
    const challenge = issue({ opaque: encodeJson({ a: '1' }) })
    const broken: Challenge[] = [
      { ...challenge, request: '%%%' },
      { ...challenge, request: encodeJson([1, 2]) },
      { ...challenge, request: encodeJson('text') },
      { ...challenge, request: encodeJson(null) },
      { ...challenge, request: Buffer.from('{"a":').toString('base64url') },
      { ...challenge, request: Buffer.from([0xff]).toString('base64url') },
      { ...challenge, opaque: encodeJson({ a: 1 }) },
      { ...challenge, opaque: encodeJson({ a: { b: '1' } }) },
      { ...challenge, opaque: encodeJson(['1']) },
      { ...challenge, opaque: 'not base64!' },
      { ...challenge, id: '' },
      { ...challenge, id: 'é'.repeat(43) },
      { ...challenge, realm: 42 as unknown as string },
      { ...challenge, expires: null as unknown as string },
      null as unknown as Challenge,
    ]
    for (const c of broken) expect(verifyId([SECRET], c)).toBe(false)
  })
})

describe('serialize', () => {
  it('writes every parameter quoted, in mppx order', () => {
    const challenge: Challenge = {
      opaque: 'eyJhIjoiMSJ9',
      expires: '2026-01-01T00:00:00Z',
      digest: 'sha-256=abc=',
      description: 'One coffee',
      request: 'e30',
      intent: 'charge',
      method: 'tempo',
      realm: 'api.example.com',
      id: 'abc',
    }
    expect(serialize(challenge)).toBe(
      'Payment id="abc", realm="api.example.com", method="tempo", intent="charge", request="e30", description="One coffee", digest="sha-256=abc=", expires="2026-01-01T00:00:00Z", opaque="eyJhIjoiMSJ9"',
    )
    expect(serialize({ id: 'a', realm: 'r', method: 'm', intent: 'i', request: 'e30' })).toBe(
      'Payment id="a", realm="r", method="m", intent="i", request="e30"',
    )
  })

  it('escapes backslash and double quote, and round-trips through parseList', () => {
    const challenge = { ...issue(), description: 'say "hi" \\o/\twith a tab, and a comma' }
    const header = serialize(challenge)
    expect(header).toContain('description="say \\"hi\\" \\\\o/\twith a tab, and a comma"')
    expect(parseList(header)).toEqual([challenge])
  })

  it('refuses CR, LF, other control characters and non-ASCII', () => {
    expect(() => serialize({ ...issue(), description: 'a\r\nb' })).toThrow(/CR or LF/)
    expect(() => serialize({ ...issue(), description: 'a\nb' })).toThrow(/CR or LF/)
    expect(() => serialize({ ...issue(), description: 'caf\u00e9' })).toThrow(/printable ASCII/)
    expect(() => serialize({ ...issue(), description: 'a\u0000b' })).toThrow(/printable ASCII/)
    expect(() => serialize({ ...issue(), realm: 'a\u007fb' })).toThrow(/printable ASCII/)
    expect(() => serialize({ ...issue(), id: '' })).toThrow(/empty/)
  })
})

describe('parseList', () => {
  it('round-trips with and without the optional fields', () => {
    for (const extra of optionalCombinations()) {
      const challenge = issue(extra, extra.expires ? 'described' : undefined)
      expect(parseList(serialize(challenge))).toEqual([challenge])
    }
  })

  it('reads two folded challenges among other schemes, ignoring commas and "Payment" inside quotes', () => {
    const first = issue({ expires: '2026-01-01T00:00:00.000Z' }, 'Payment x, y')
    const second = { ...issue({ opaque: encodeJson({ a: '1' }) }), method: 'stripe' }
    const header = `Basic realm="x, Payment y", ${serialize(first)}, Bearer, Newauth realm="apps", type=1, title="Login to \\"apps\\"", ${serialize(second)},Digest nonce="n"`
    expect(parseList(header)).toEqual([first, second])
  })

  it('accepts token values, any parameter-name case, BWS around "=" and unknown parameters', () => {
    const [challenge] = parseList(
      'payment ID=abc, Realm = "api.example.com", METHOD=tempo, intent=charge, request=eyJhIjoiMSJ9, Unknown="x", header="Payment-Authorization"',
    )
    expect(challenge).toEqual({
      id: 'abc',
      realm: 'api.example.com',
      method: 'tempo',
      intent: 'charge',
      request: 'eyJhIjoiMSJ9',
    })
  })

  it("decodes mppx's \\uXXXX escape in quoted values", () => {
    expect(
      parseList('Payment id="a", realm="r", method="m", intent="i", request="e30", description="tea \\u2014 hot"')[0]
        ?.description,
    ).toBe('tea \u2014 hot')
  })

  it('returns no challenges when there is no Payment scheme', () => {
    expect(parseList('')).toEqual([])
    expect(parseList('Basic realm="x", Bearer error="invalid_token"')).toEqual([])
    expect(parseList('PaymentX id="a"')).toEqual([])
  })

  it('throws on duplicates, missing or empty required parameters and bad syntax', () => {
    const base = 'realm="r", method="m", intent="i", request="e30"'
    expect(() => parseList(`Payment id="a", id="b", ${base}`)).toThrow(/duplicate/)
    expect(() => parseList(`Payment id="a", ID="b", ${base}`)).toThrow(/duplicate/)
    expect(() => parseList(`Payment ${base}`)).toThrow(/"id" is missing/)
    expect(() => parseList(`Payment id="", ${base}`)).toThrow(/"id" is empty/)
    expect(() => parseList('Payment id="a", method="m", intent="i", request="e30"')).toThrow(/"realm" is missing/)
    expect(() => parseList('Payment id="a", realm="r", intent="i", request="e30"')).toThrow(/"method" is missing/)
    expect(() => parseList('Payment id="a", realm="r", method="m", request="e30"')).toThrow(/"intent" is missing/)
    expect(() => parseList('Payment id="a", realm="r", method="m", intent="i"')).toThrow(/"request" is missing/)
    expect(() => parseList('Payment')).toThrow(/missing/)
    expect(() => parseList(`Payment ${base}, id="a`)).toThrow(/unterminated/)
    expect(() => parseList(`Payment id="a, ${base}`)).toThrow()
    expect(() => parseList(`Payment id="a"x, ${base}`)).toThrow(/unexpected text/)
    expect(() => parseList(`Payment id=, ${base}`)).toThrow(/malformed/)
    expect(() => parseList(`Payment abc, ${base}`)).toThrow(/malformed/)
    // A valid challenge does not excuse a broken one later in the same list.
    expect(() => parseList(`Payment id="a", ${base}, Payment id="b"`)).toThrow()
  })
})

describe('interop with mppx', () => {
  it('mppx computes the same id and the same header for the same fields', () => {
    for (const extra of optionalCombinations()) {
      const ours = issue(extra)
      const theirs = Mppx.from({
        secretKey: SECRET,
        realm: ours.realm,
        method: ours.method,
        intent: ours.intent,
        request: REQUEST,
        ...(extra.expires !== undefined && { expires: extra.expires }),
        ...(extra.digest !== undefined && { digest: extra.digest }),
        ...(extra.opaque !== undefined && { meta: decodeJson(extra.opaque) as Record<string, string> }),
      })
      expect(theirs.id).toBe(ours.id)
      expect(Mppx.serialize(theirs)).toBe(serialize(ours))
      expect(Mppx.verify(theirs, { secretKey: SECRET })).toBe(true)
      expect(verifyId([SECRET], ours)).toBe(true)
    }
  })

  it('mppx parses our header to the same fields and verifies our id', () => {
    for (const extra of optionalCombinations()) {
      const ours = issue(extra, 'A "quoted" \\ description')
      const theirs = Mppx.deserialize(serialize(ours))
      expect(theirs.id).toBe(ours.id)
      expect(theirs.realm).toBe(ours.realm)
      expect(theirs.method).toBe(ours.method)
      expect(theirs.intent).toBe(ours.intent)
      expect(theirs.description).toBe(ours.description)
      expect(theirs.digest).toBe(ours.digest)
      expect(theirs.expires).toBe(ours.expires)
      expect(theirs.opaque).toBe(ours.opaque)
      expect(theirs.request).toEqual(REQUEST)
      expect(Mppx.verify(theirs, { secretKey: SECRET })).toBe(true)
      expect(Mppx.verify(theirs, { secretKey: OTHER_SECRET })).toBe(false)
    }
  })

  it("mppx splits our folded list, and we parse mppx's", () => {
    const ours = [
      issue({ expires: '2026-01-01T00:00:00.000Z' }),
      { ...issue({ digest: 'sha-256=abc=' }), method: 'stripe' },
    ]
    const folded = ours.map(serialize).join(', ')
    expect(Mppx.deserializeList(folded).map((c) => c.id)).toEqual(ours.map((c) => c.id))
    const headers = new Headers()
    for (const challenge of ours) headers.append('WWW-Authenticate', serialize(challenge))
    expect(Mppx.fromHeadersList(headers).map((c) => c.method)).toEqual(['tempo', 'stripe'])
    expect(parseList(headers.get('WWW-Authenticate')!)).toEqual(ours)
  })

  it("we parse mppx's header (including its \\u escapes) and verify its id", () => {
    const theirs = Mppx.from({
      secretKey: SECRET,
      realm: 'api.example.com',
      method: 'tempo',
      intent: 'charge',
      request: REQUEST,
      description: 'Espresso \u2014 double',
      expires: '2026-01-01T00:00:00.000Z',
      meta: { route: '/coffee' },
    })
    const [ours] = parseList(Mppx.serialize(theirs))
    expect(ours?.description).toBe('Espresso \u2014 double')
    expect(ours?.opaque).toBe(encodeJson({ route: '/coffee' }))
    expect(verifyId([SECRET], ours!)).toBe(true)
  })
})

function optionalCombinations(): Partial<BoundFields>[] {
  const combos: Partial<BoundFields>[] = []
  for (let mask = 0; mask < 8; mask++) {
    combos.push({
      ...(mask & 1 ? { expires: '2026-11-21T23:00:44.266Z' } : {}),
      ...(mask & 2 ? { digest: 'sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=' } : {}),
      ...(mask & 4 ? { opaque: encodeJson({ route: '/paid', _scope: 'x' }) } : {}),
    })
  }
  return combos
}
