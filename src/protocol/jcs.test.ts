import { describe, expect, it } from 'vitest'
import { PaymentRequest } from 'mppx'
import { canonicalize } from './jcs.js'
import { encodeJson } from './challenge.js'

function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8))
  view.setBigUint64(0, BigInt(`0x${hex}`))
  return view.getFloat64(0)
}

describe('canonicalize (RFC 8785)', () => {
  it('sorts members, removes whitespace and normalizes numbers and strings (RFC 8785 §3.2 behaviour)', () => {
    // Input text with unsorted keys, padding whitespace, non-shortest numbers and needless escapes.
    const input = `{
      "strings": "\\u00e9\\u20ac\\u0007\\t\\/\\u0022\\u005c",
      "amounts" : [ 12.50, 1E3, 5e-7, 1E21, 100000000000000000000, -0.0, 0.1 ],
      "flags":[true , false, null]
    }`
    expect(canonicalize(JSON.parse(input))).toBe(
      '{"amounts":[12.5,1000,5e-7,1e+21,100000000000000000000,0,0.1],"flags":[true,false,null],"strings":"é€\\u0007\\t/\\"\\\\"}',
    )
  })

  it('orders keys by UTF-16 code units, not by code points or locale', () => {
    const value = {
      '\u20ac': 'euro',
      '\r': 'cr',
      '\ufb33': 'dalet',
      '1': 'one',
      '\ud83d\ude00': 'grinning face (surrogate pair sorts below U+FB33)',
      '\u0080': 'control',
      '\u00f6': 'o umlaut',
      B: 'upper',
      a: 'lower',
    }
    const keys = Object.keys(JSON.parse(canonicalize(value)) as object)
    // Integer-like keys are enumerated first by JS, so check the raw text order instead.
    const text = canonicalize(value)
    const order = ['\\r', '1', 'B', 'a', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((key) =>
      text.indexOf(`"${key}":`),
    )
    expect(order.every((position) => position >= 0)).toBe(true)
    expect([...order].sort((x, y) => x - y)).toEqual(order)
    expect(keys).toHaveLength(9)
  })

  it('formats numbers with ECMAScript Number-to-String', () => {
    const cases: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'], // -0
      ['0000000000000001', '5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af6', '1e+23'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['c3e0000000000000', '-9223372036854776000'],
    ]
    for (const [bits, text] of cases) expect(canonicalize(fromBits(bits))).toBe(text)
    // biome-ignore lint/correctness/noPrecisionLoss: the RFC 8785 vector is this literal, rounded as written
    expect(canonicalize(333333333.33333329)).toBe('333333333.3333333')
    expect(canonicalize(1e30)).toBe('1e+30')
    expect(canonicalize(4.5)).toBe('4.5')
    expect(canonicalize(0.002)).toBe('0.002')
    expect(canonicalize(1e-27)).toBe('1e-27')
  })

  it('escapes only quote, backslash and control characters, with short forms where they exist', () => {
    let all = ''
    for (let c = 0; c < 0x20; c++) all += String.fromCharCode(c)
    expect(canonicalize(all)).toBe(
      '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f' +
        '\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f"',
    )
    expect(canonicalize('"\\/')).toBe('"\\"\\\\/"')
    expect(canonicalize("\u007f\u2028\u2029<>&'")).toBe('"\u007f\u2028\u2029<>&\'"')
    expect(canonicalize('😀')).toBe('"😀"')
  })

  it('keeps array order and drops undefined object members', () => {
    expect(canonicalize([3, 1, 2])).toBe('[3,1,2]')
    expect(canonicalize({ b: undefined, a: 1 })).toBe('{"a":1}')
    expect(canonicalize({})).toBe('{}')
    expect(canonicalize([])).toBe('[]')
    expect(canonicalize(Object.assign(Object.create(null) as object, { z: 1, y: [{ d: 1, c: 2 }] }))).toBe(
      '{"y":[{"c":2,"d":1}],"z":1}',
    )
  })

  it('rejects values JSON cannot carry faithfully', () => {
    expect(() => canonicalize(Number.NaN)).toThrow(TypeError)
    expect(() => canonicalize(Number.POSITIVE_INFINITY)).toThrow(TypeError)
    expect(() => canonicalize({ a: Number.NEGATIVE_INFINITY })).toThrow(TypeError)
    expect(() => canonicalize(10n)).toThrow(TypeError)
    expect(() => canonicalize({ a: [1n] })).toThrow(TypeError)
    expect(() => canonicalize('\ud800')).toThrow(TypeError)
    expect(() => canonicalize('a\udc00b')).toThrow(TypeError)
    expect(() => canonicalize({ '\udead': 1 })).toThrow(TypeError)
    expect(() => canonicalize(undefined)).toThrow(TypeError)
    expect(() => canonicalize([undefined])).toThrow(TypeError)
    expect(() => canonicalize(() => 1)).toThrow(TypeError)
    expect(() => canonicalize(Symbol('s'))).toThrow(TypeError)
    expect(() => canonicalize(new Date(0))).toThrow(TypeError)
    const circular: Record<string, unknown> = {}
    circular.self = circular
    expect(() => canonicalize(circular)).toThrow(TypeError)
  })

  it('allows the same object twice when it is not circular', () => {
    const shared = { x: 1 }
    expect(canonicalize({ a: shared, b: [shared] })).toBe('{"a":{"x":1},"b":[{"x":1}]}')
  })

  it('equals JSON.stringify on inputs whose keys are already sorted', () => {
    const random = seeded(42)
    for (let n = 0; n < 300; n++) {
      const value = generate(random, 3)
      expect(canonicalize(value)).toBe(JSON.stringify(value))
    }
  })

  it('matches mppx (ox JCS) on request-like data', () => {
    const random = seeded(7)
    for (let n = 0; n < 300; n++) {
      const value: Record<string, unknown> = {}
      for (let k = 0; k < 6; k++) value[randomString(random)] = generate(random, 2)
      expect(encodeJson(value)).toBe(PaymentRequest.serialize(value))
    }
  })
})

function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

const ALPHABET = ['a', 'B', 'z', '0', ' ', '"', '\\', '\n', '\u0001', '\u007f', 'é', '€', '😀', '\u2028', '/', '\ufb33']

function randomString(random: () => number): string {
  let text = ''
  const length = Math.floor(random() * 6)
  for (let i = 0; i < length; i++) text += ALPHABET[Math.floor(random() * ALPHABET.length)]!
  return text
}

function randomNumber(random: () => number): number {
  const kind = Math.floor(random() * 5)
  if (kind === 0) return Math.floor(random() * 1e6)
  if (kind === 1) return (random() - 0.5) * 10 ** Math.floor(random() * 60 - 30)
  if (kind === 2) return random() * 1e25
  if (kind === 3) return -Math.floor(random() * 100)
  return random()
}

/** Random JSON data whose object keys are inserted in sorted order (non-integer keys only). */
function generate(random: () => number, depth: number): unknown {
  const kind = Math.floor(random() * (depth > 0 ? 7 : 5))
  switch (kind) {
    case 0:
      return null
    case 1:
      return random() < 0.5
    case 2:
    case 3:
      return randomString(random)
    case 4:
      return randomNumber(random)
    case 5:
      return Array.from({ length: Math.floor(random() * 4) }, () => generate(random, depth - 1))
    default: {
      const keys = new Set<string>()
      for (let i = 0; i < 4; i++) keys.add(`k${randomString(random)}`)
      const object: Record<string, unknown> = {}
      for (const key of [...keys].sort()) object[key] = generate(random, depth - 1)
      return object
    }
  }
}
