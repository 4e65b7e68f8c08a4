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
    ['/a%252e', '/a%252e'],
    ['/v1/chat/', '/v1/chat/'],
    ['/v1/chat//', '/v1/chat/'],
    ['/v1/chat/.', '/v1/chat/'],
    ['/v1/chat/x/..', '/v1/chat/'],
    ['/.', '/'],
    ['/a/..', '/'],
    ['/public/*', '/public/*'],
    ['/v1/reports/:id', '/v1/reports/:id'],
    ["/!$&'()*+,;=:@", "/!$&'()*+,;=:@"],
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
