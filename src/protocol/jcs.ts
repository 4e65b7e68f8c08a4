/**
 * RFC 8785 JSON Canonicalization Scheme. The challenge id is an HMAC over the base64url of the
 * canonical `request`/`opaque` JSON, so every implementation must produce the same bytes for the
 * same data; any divergence here breaks id verification across implementations.
 */

/** Canonical JSON text of plain JSON data (objects, arrays, strings, finite numbers, booleans, null). */
export function canonicalize(value: unknown): string {
  return write(value, new Set())
}

function write(value: unknown, ancestors: Set<object>): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false'
    case 'string':
      return quote(value)
    case 'number':
      return number(value)
    case 'bigint':
      // A bigint has no JSON number form that every reader would parse back to the same value.
      throw new TypeError('JCS: bigint cannot be canonicalized; encode it as a string')
    case 'object':
      break
    default:
      throw new TypeError(`JCS: a ${typeof value} cannot be canonicalized`)
  }
  const object = value as object
  if (ancestors.has(object)) throw new TypeError('JCS: circular structure')
  ancestors.add(object)
  try {
    if (Array.isArray(object)) {
      return `[${object.map((item: unknown) => write(item, ancestors)).join(',')}]`
    }
    const prototype: unknown = Object.getPrototypeOf(object)
    // Dates, Maps and class instances have no single JSON meaning; callers convert them first.
    if (prototype !== Object.prototype && prototype !== null)
      throw new TypeError('JCS: only plain objects can be canonicalized')
    const record = object as Record<string, unknown>
    // Default sort compares UTF-16 code units, which is exactly the order RFC 8785 §3.2.3 requires.
    const members: string[] = []
    for (const key of Object.keys(record).sort()) {
      const member = record[key]
      if (member === undefined) continue
      members.push(`${quote(key)}:${write(member, ancestors)}`)
    }
    return `{${members.join(',')}}`
  } finally {
    ancestors.delete(object)
  }
}

function number(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError('JCS: NaN and Infinity cannot be canonicalized')
  // ECMAScript Number::toString is the serialization RFC 8785 §3.2.2.3 mandates; -0 becomes "0".
  return Object.is(value, -0) ? '0' : String(value)
}

const SHORT: Record<number, string> = {
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0c: '\\f',
  0x0d: '\\r',
  0x22: '\\"',
  0x5c: '\\\\',
}

// Strings with nothing to escape and no surrogates (the usual case) are copied as they are.
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/

function quote(text: string): string {
  if (PLAIN.test(text)) return `"${text}"`
  let out = '"'
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    const short = SHORT[unit]
    if (short !== undefined) out += short
    else if (unit < 0x20) out += `\\u${unit.toString(16).padStart(4, '0')}`
    else if (unit >= 0xd800 && unit <= 0xdfff) {
      // RFC 8785 §3.2.2.2: lone surrogates are not Unicode and must be an error, not escaped.
      const next = text.charCodeAt(i + 1)
      if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += text[i]! + text[i + 1]!
        i++
      } else throw new TypeError('JCS: string contains a lone surrogate')
    } else out += text[i]!
  }
  return `${out}"`
}
