/**
 * Base64url (RFC 4648 §5) as the Payment scheme uses it: we always write the unpadded URL
 * alphabet, but read leniently, because mppx clients decode with a lenient reader and some
 * send standard-alphabet or padded values that mppx servers accept.
 */
import { Buffer } from 'node:buffer'

const utf8 = new TextEncoder()
// fatal: a credential with broken UTF-8 must be refused, not repaired into U+FFFD.
// ignoreBOM: keep a leading BOM so it reaches (and fails) JSON.parse instead of vanishing silently.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

const BODY = /^[A-Za-z0-9+/_-]*$/

/** Unpadded base64url of the bytes, or of the UTF-8 encoding of a string. */
export function encode(data: Uint8Array | string): string {
  const bytes = typeof data === 'string' ? utf8.encode(data) : data
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/**
 * Decodes base64 in either alphabet (they may even be mixed), with or without `=` padding.
 * Throws on any other character (including whitespace) and on lengths no encoder can produce.
 */
export function decode(text: string): Uint8Array {
  let body = text
  let padding = 0
  while (body.endsWith('=') && padding < 2) {
    body = body.slice(0, -1)
    padding++
  }
  if (!BODY.test(body)) throw new Error('invalid base64url: unexpected character')
  // One leftover character carries only 6 bits, less than a byte: no encoder emits that.
  if (body.length % 4 === 1) throw new Error('invalid base64url: impossible length')
  // Padding, when present, must complete a 4-character group.
  if (padding > 0 && (body.length + padding) % 4 !== 0) throw new Error('invalid base64url: bad padding')
  // Buffer silently skips unknown characters, which is why the alphabet is checked above.
  const decoded = Buffer.from(body, 'base64')
  return new Uint8Array(decoded.buffer.slice(decoded.byteOffset, decoded.byteOffset + decoded.byteLength))
}

/** Decodes base64url to text; throws on invalid base64 or invalid UTF-8. */
export function decodeText(text: string): string {
  return strictUtf8.decode(decode(text))
}
