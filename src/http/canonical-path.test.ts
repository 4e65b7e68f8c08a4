import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalizePath } from './canonical-path.js'

const ok = (path: string) => ({ ok: true, path })

describe('canonicalizePath', () => {
  it.each([
    ['/', '/'],
    ['/v1/chat', '/v1/chat'],
    ['/v1//chat', '/v1/chat'],
    ['//v1///chat', '/v1/chat'],
    ['/v1/./chat', '/v1/chat'],
    ['/v1/x/../chat', '/v1/chat'],
    ['/v1/x/y/../../chat', '/v1/chat'],
    ['/%761/chat', '/v1/chat'],
    ['/%76%31/%63hat', '/v1/chat'],
    ['/v1/%2e%2e/v1/chat', '/v1/chat'],
    ['/v1/%2E/chat', '/v1/chat'],
    ['/v1/x/.%2e/chat', '/v1/chat'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/%7e/x', '/~/x'],
    ['/%41', '/A'],
    ['/a%3ab', '/a%3Ab'],
    ['/a%20b', '/a%20b'],
    ['/a b', '/a%20b'],
    ['/a{b}|', '/a%7Bb%7D%7C'],
    ['/a%25', '/a%25'],
    ['/a%25zz', '/a%25zz'],
    ['/a%25%41', '/a%25A'],
    ['/a%25/b', '/a%25/b'],
    ['/caf%C3%A9%e2%82%ac', '/caf%C3%A9%E2%82%AC'],
    ['/%f0%9f%98%80/x', '/%F0%9F%98%80/x'],
    ['/a%3Bb', '/a%3Bb'],
    ['/v1/chat/', '/v1/chat/'],
    ['/v1/chat//', '/v1/chat/'],
    ['/v1/chat/.', '/v1/chat/'],
    ['/v1/chat/x/..', '/v1/chat/'],
    ['/.', '/'],
    ['/a/..', '/'],
    ['/public/*', '/public/*'],
    ['/v1/reports/:id', '/v1/reports/:id'],
    ["/!$&'()*+,=:@", "/!$&'()*+,=:@"],
    ['/...', '/...'],
    ['/.a/..b', '/.a/..b'],
  ])('%s → %s', (raw, path) => {
    expect(canonicalizePath(raw)).toEqual(ok(path))
  })

  it.each([
    ['', 'must start with "/"'],
    ['v1/chat', 'must start with "/"'],
    ['*', 'must start with "/"'],
    ['/v1/chat%2Fcompletions', 'encoded slash'],
    ['/a%2fb', 'encoded slash'],
    ['/a%5cb', 'encoded backslash'],
    ['/a%5Cb', 'encoded backslash'],
    ['/a\\b', 'backslash'],
    ['/a%00', 'encoded control character'],
    ['/a%1f', 'encoded control character'],
    ['/a%7F', 'encoded control character'],
    ['/a\u0000b', 'control character'],
    ['/a\nb', 'control character'],
    ['/a\u007fb', 'control character'],
    ['/a%G1', 'malformed percent-escape'],
    ['/a%4', 'malformed percent-escape'],
    ['/a%', 'malformed percent-escape'],
    ['/../etc', 'climbs above the root'],
    ['/a/../../etc', 'climbs above the root'],
    ['/%2e%2e/etc', 'climbs above the root'],
    ['/..', 'climbs above the root'],
    ['/café', 'non-ASCII'],
    ['/a?b', 'unexpected "?"'],
    ['/a#b', 'unexpected "#"'],
    ['/v1/%252e%252e/paid', 'double-encoded'],
    ['/v1/paid%252f', 'double-encoded'],
    ['/a%25Ab', 'double-encoded'],
    ['/a%25%41%42', 'double-encoded'],
    ['/a%25%32e', 'double-encoded'],
    ['/%c0%ae%c0%ae/x', 'not valid UTF-8'],
    ['/v1/%C0%AE/paid', 'not valid UTF-8'],
    ['/v1/%E0%80%AE/paid', 'not valid UTF-8'],
    ['/a%C3', 'not valid UTF-8'],
    ['/a%C3/b', 'not valid UTF-8'],
    ['/a%A9', 'not valid UTF-8'],
    ['/a%ED%A0%80', 'not valid UTF-8'],
    ['/a%F4%90%80%80', 'not valid UTF-8'],
    ['/a%FF', 'not valid UTF-8'],
    ['/v1/paid;x', 'path parameter'],
    ['/v1/..;/paid', 'path parameter'],
    ['/v1;/paid', 'path parameter'],
    ["/!$&'()*+,;=:@", 'path parameter'],
  ])('rejects %j (%s)', (raw, reason) => {
    const result = canonicalizePath(raw)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.reason).toContain(reason)
  })

  it('is idempotent', () => {
    for (const raw of ['/v1//x/../%7e/caf%c3%a9/', '/a b/%41%2e/.', '/x/%2E%2E/y']) {
      const once = canonicalizePath(raw)
      expect(once.ok).toBe(true)
      if (once.ok) expect(canonicalizePath(once.path)).toEqual(once)
    }
  })
})

// Paths built from the pieces that canonicalisation treats specially, so the fuzzer reaches them.
const piece = fc.oneof(
  fc.constantFrom(
    '/',
    '//',
    '.',
    '..',
    '/./',
    '/../',
    ';',
    '%',
    '%25',
    '%2e',
    '%2E',
    '%2f',
    '%5c',
    '%3b',
    '%41',
    '%c3%a9',
    '%C0%AE',
    '%E0%80%AE',
    '%e2%82',
    '%ff',
    'A',
    'paid',
    'v1',
    '~',
    ' ',
    '?',
    '\\',
  ),
  fc.string({ maxLength: 3 }),
  fc.integer({ min: 0, max: 255 }).map((byte) => `%${byte.toString(16).padStart(2, '0')}`),
)
const rawPath = fc.array(piece, { maxLength: 12 }).map((pieces) => `/${pieces.join('')}`)

describe('canonicalizePath (property)', () => {
  it('never throws, is idempotent, and returns only paths free of what it refuses', () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const once = canonicalizePath(raw)
        if (!once.ok) return
        expect(canonicalizePath(once.path)).toEqual(once)
        expect(once.path).not.toMatch(/\/\/|\/\.\.?(?:\/|$)|;|%25[0-9A-Fa-f]{2}|%2[Ff]|%5[Cc]|[^\x21-\x7e]/)
      }),
      { numRuns: 5000 },
    )
  })
})
