import { describe, expect, it } from 'vitest'
import { bearerMatches, isLoopbackHostHeader } from './admin-auth.js'

const TOKEN = 'admin-token-0123456789abcdef'

describe('bearerMatches', () => {
  it('accepts exactly one Bearer line with the token, the scheme in any case', () => {
    expect(bearerMatches([`Bearer ${TOKEN}`], TOKEN)).toBe(true)
    expect(bearerMatches([`bearer ${TOKEN}`], TOKEN)).toBe(true)
    expect(bearerMatches([`BEARER  ${TOKEN} `], TOKEN)).toBe(true)
  })

  it('refuses a missing, wrong, prefixed, extended, other-scheme or repeated credential', () => {
    for (const lines of [
      undefined,
      [],
      [''],
      ['Bearer'],
      ['Bearer '],
      [`Bearer ${TOKEN.slice(0, -1)}`],
      [`Bearer ${TOKEN}x`],
      [`Bearer ${TOKEN} extra`],
      [`Basic ${TOKEN}`],
      [TOKEN],
      [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`],
    ]) {
      expect(bearerMatches(lines, TOKEN), JSON.stringify(lines)).toBe(false)
    }
  })
})

describe('isLoopbackHostHeader', () => {
  it('accepts loopback names with or without a port, refuses every other host', () => {
    for (const host of ['127.0.0.1:9402', '127.0.0.1', 'localhost:9402', 'LocalHost', '[::1]:9402', '[::1]'])
      expect(isLoopbackHostHeader(host), host).toBe(true)
    for (const host of [
      undefined,
      '',
      'evil.example:9402',
      'evil.example',
      '10.0.0.1:9402',
      '[::2]:9402',
      'localhost.evil.example:9402',
      '127.0.0.1.evil.example',
    ]) {
      expect(isLoopbackHostHeader(host), String(host)).toBe(false)
    }
  })
})
