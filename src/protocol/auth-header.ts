/**
 * Splitting of `WWW-Authenticate` / `Authorization` field values (RFC 9110 §11.6) into their
 * scheme elements. Both fields are comma lists in which a comma separates either two schemes or
 * two parameters of one scheme, so the list is cut at commas outside quoted strings and each
 * piece is classified: `token =` starts a parameter, `token SP …` or a lone token starts a scheme.
 */

export interface AuthElement {
  /** The scheme name as sent (compare case-insensitively). */
  scheme: string
  /** What follows the scheme on its own piece: a token68, a first auth-param, or "". */
  rest: string
  /** The following pieces that are auth-params of this scheme, raw. */
  params: string[]
  /** The element's text, pieces re-joined with ", ". */
  raw: string
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+"
const PARAM_START = new RegExp(`^${TOKEN}[ \\t]*=`)
const SCHEME = new RegExp(`^(${TOKEN})(?:[ \\t]+([\\s\\S]*))?$`)
const PARAM = new RegExp(`^(${TOKEN})[ \\t]*=[ \\t]*([\\s\\S]*)$`)

/**
 * Cuts a field value at commas outside quoted strings and trims the pieces, dropping empty ones
 * (the list syntax allows them). Lenient: an unterminated quote just runs to the end, so a
 * caller that only needs to find one scheme still can; parameter parsing reports the error.
 */
export function splitPieces(value: string): string[] {
  const pieces: string[] = []
  let start = 0
  let quoted = false
  for (let i = 0; i < value.length; i++) {
    const char = value[i]
    if (quoted) {
      if (char === '\\') i++
      else if (char === '"') quoted = false
    } else if (char === '"') quoted = true
    else if (char === ',') {
      pieces.push(value.slice(start, i))
      start = i + 1
    }
  }
  pieces.push(value.slice(start))
  return pieces.map((piece) => piece.trim()).filter((piece) => piece !== '')
}

/**
 * Groups the pieces of a field value into scheme elements. Pieces that cannot start a scheme and
 * come before any scheme form an element with an empty scheme name, so nothing is lost.
 */
export function splitElements(value: string): AuthElement[] {
  const elements: AuthElement[] = []
  let current: AuthElement | undefined
  for (const piece of splitPieces(value)) {
    const scheme = PARAM_START.test(piece) ? null : SCHEME.exec(piece)
    if (scheme) {
      current = { scheme: scheme[1]!, rest: (scheme[2] ?? '').trim(), params: [], raw: piece }
      elements.push(current)
    } else if (current) {
      current.params.push(piece)
      current.raw += `, ${piece}`
    } else {
      current = { scheme: '', rest: '', params: [piece], raw: piece }
      elements.push(current)
    }
  }
  return elements
}

/**
 * Parses one `name=value` piece; the name is lower-cased (auth-param names are case-insensitive).
 * The value is a token or a quoted-string. Inside quotes, `\uXXXX` is decoded as a UTF-16 code
 * unit because mppx writes characters above U+00FF that way (headers must be byte strings);
 * every other backslash quotes the next character, as RFC 9110 says.
 */
export function parseParam(piece: string): { name: string; value: string } {
  const match = PARAM.exec(piece)
  if (!match) throw new Error('malformed auth-param')
  const name = match[1]!.toLowerCase()
  const text = match[2]!
  if (!text.startsWith('"')) {
    // Lenient like mppx: anything without spaces or quotes, so unquoted base64 with "=" works.
    if (!/^[^\s"]+$/.test(text)) throw new Error(`malformed value for auth-param "${name}"`)
    return { name, value: text }
  }
  let value = ''
  for (let i = 1; i < text.length; i++) {
    const char = text[i]!
    if (char === '"') {
      if (text.slice(i + 1).trim() !== '') throw new Error(`unexpected text after quoted value of auth-param "${name}"`)
      return { name, value }
    }
    if (char === '\\') {
      const hex = text.slice(i + 2, i + 6)
      if (text[i + 1] === 'u' && /^[0-9A-Fa-f]{4}$/.test(hex)) {
        value += String.fromCharCode(Number.parseInt(hex, 16))
        i += 5
        continue
      }
      if (i + 1 >= text.length) break
      value += text[i + 1]
      i++
      continue
    }
    value += char
  }
  throw new Error(`unterminated quoted value for auth-param "${name}"`)
}
