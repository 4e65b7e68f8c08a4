export type CanonicalPath = { ok: true; path: string } | { ok: false; reason: string }

const HEX = '0123456789ABCDEF'
const UNRESERVED = /^[A-Za-z0-9\-._~]$/
// RFC 3986 pchar minus "%" (handled apart) plus "/": everything else must be percent-encoded.
const PATH_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,=:@/]$/
// Non-empty segments of raw path characters (no "%", no ";"), none of them "." or "..", and an
// optional trailing "/": exactly the paths the full pass below would return unchanged.
const ALREADY_CANONICAL = /^(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9\-._~!$&'()*+,=:@]+)*\/?$/
// Escapes of bytes >= 0x80 must spell well-formed UTF-8: an overlong "%C0%AE" is "." to a lax decoder.
const UTF8 = new TextDecoder('utf-8', { fatal: true })

/**
 * One spelling per request path, so a priced path cannot be reached for free under another one
 * and the upstream sees exactly what was matched. Only unreserved characters are decoded (their
 * encoded and raw forms are equivalent by RFC 3986); everything that different servers disagree
 * on (encoded slashes, backslashes, control characters, double-encoded escapes, invalid UTF-8,
 * ";" path parameters that Java servers strip) is refused outright.
 */
export function canonicalizePath(rawPath: string): CanonicalPath {
  if (!rawPath.startsWith('/')) return { ok: false, reason: 'the path must start with "/"' }
  // Most paths are canonical already: one regular expression instead of a pass per character.
  if (ALREADY_CANONICAL.test(rawPath)) return { ok: true, path: rawPath }
  let decoded = ''
  for (let i = 0; i < rawPath.length; i++) {
    const char = rawPath[i]!
    const code = char.charCodeAt(0)
    if (char === '%') {
      const hex = rawPath.slice(i + 1, i + 3)
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return { ok: false, reason: 'malformed percent-escape' }
      const byte = Number.parseInt(hex, 16)
      const refused = refuseByte(byte, 'encoded ')
      if (refused) return { ok: false, reason: refused }
      if (byte >= 0x80) {
        const run = /^(?:%[89A-Fa-f][0-9A-Fa-f])+/.exec(rawPath.slice(i))![0]
        if (!isUtf8(run)) return { ok: false, reason: 'percent-escapes that are not valid UTF-8' }
        decoded += run.toUpperCase()
        i += run.length - 1
        continue
      }
      const plain = String.fromCharCode(byte)
      decoded += UNRESERVED.test(plain) ? plain : `%${hex.toUpperCase()}`
      i += 2
      continue
    }
    if (char === ';') return { ok: false, reason: '";" (a path parameter some servers strip)' }
    const refused = refuseByte(code, '')
    if (refused) return { ok: false, reason: refused }
    if (code > 0x7e) return { ok: false, reason: 'non-ASCII characters must be percent-encoded' }
    if (char === '?' || char === '#') return { ok: false, reason: `unexpected "${char}" in the path` }
    // Other ASCII that a path may not carry raw (space, quotes, braces...) converges on its escape.
    decoded += PATH_CHAR.test(char) ? char : `%${HEX[code >> 4]}${HEX[code & 15]}`
  }
  // "%252e" is "%2e" to a server that decodes twice, "." to the next one. Checked after decoding,
  // so "%25%32e" cannot spell it either.
  if (/%25[0-9A-Fa-f]{2}/.test(decoded)) return { ok: false, reason: 'double-encoded percent-escape' }
  return removeDotSegments(decoded)
}

function isUtf8(escapes: string): boolean {
  const bytes = new Uint8Array(escapes.length / 3)
  for (let j = 0; j < bytes.length; j++) bytes[j] = Number.parseInt(escapes.slice(j * 3 + 1, j * 3 + 3), 16)
  try {
    UTF8.decode(bytes)
    return true
  } catch {
    return false
  }
}

function refuseByte(byte: number, prefix: string): string | undefined {
  if (byte < 0x20 || byte === 0x7f) return `${prefix}control character`
  if (byte === 0x5c) return `${prefix}backslash`
  if (prefix && byte === 0x2f) return 'encoded slash'
  return undefined
}

/** Collapses empty segments and resolves "." and ".." (RFC 3986 §5.2.4), refusing to climb above "/". */
function removeDotSegments(path: string): CanonicalPath {
  const segments = path.split('/').slice(1)
  const out: string[] = []
  let trailingSlash = false
  for (const segment of segments) {
    trailingSlash = segment === '' || segment === '.' || segment === '..'
    if (segment === '' || segment === '.') continue
    if (segment === '..') {
      if (out.length === 0) return { ok: false, reason: '".." climbs above the root' }
      out.pop()
      continue
    }
    out.push(segment)
  }
  if (out.length === 0) return { ok: true, path: '/' }
  return { ok: true, path: `/${out.join('/')}${trailingSlash ? '/' : ''}` }
}
