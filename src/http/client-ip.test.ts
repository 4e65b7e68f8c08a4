import { describe, expect, it } from 'vitest'
import { createClientIpResolver } from './client-ip.js'

describe('createClientIpResolver', () => {
  it('ignores X-Forwarded-For entirely when no proxy is trusted', () => {
    const clientIp = createClientIpResolver([])
    expect(clientIp('203.0.113.7', '6.6.6.6')).toBe('203.0.113.7')
    expect(clientIp('10.0.0.2', '6.6.6.6')).toBe('10.0.0.2')
  })

  it('uses the peer when it is not a trusted proxy, whatever X-Forwarded-For claims', () => {
    const clientIp = createClientIpResolver(['10.0.0.0/8'])
    expect(clientIp('203.0.113.7', '10.0.0.5, 6.6.6.6')).toBe('203.0.113.7')
  })

  it('takes the rightmost untrusted entry when the peer is a trusted proxy', () => {
    const clientIp = createClientIpResolver(['10.0.0.0/8'])
    // the leftmost entry was written by the client itself and is ignored
    expect(clientIp('10.0.0.2', '6.6.6.6, 203.0.113.7')).toBe('203.0.113.7')
  })

  it('walks back through a chain of trusted proxies', () => {
    const clientIp = createClientIpResolver(['10.0.0.0/8', '192.168.1.1'])
    expect(clientIp('10.0.0.2', '6.6.6.6, 203.0.113.7, 192.168.1.1, 10.1.2.3')).toBe('203.0.113.7')
  })

  it('takes the leftmost entry when every hop is trusted', () => {
    const clientIp = createClientIpResolver(['10.0.0.0/8'])
    expect(clientIp('10.0.0.2', '10.9.9.9, 10.1.1.1')).toBe('10.9.9.9')
  })

  it('uses the trusted peer when there is no X-Forwarded-For', () => {
    const clientIp = createClientIpResolver(['10.0.0.0/8'])
    expect(clientIp('10.0.0.2', undefined)).toBe('10.0.0.2')
    expect(clientIp('10.0.0.2', '')).toBe('10.0.0.2')
  })

  it('stops at a malformed entry and answers the last trusted hop, never the garbage', () => {
    const clientIp = createClientIpResolver(['10.0.0.0/8'])
    expect(clientIp('10.0.0.2', '203.0.113.7, not-an-ip, 10.1.1.1')).toBe('10.1.1.1')
    expect(clientIp('10.0.0.2', '203.0.113.7, evil<script>')).toBe('10.0.0.2')
    expect(clientIp('10.0.0.2', '203.0.113.7:4321')).toBe('10.0.0.2')
  })

  it('handles IPv6 proxies and clients', () => {
    const clientIp = createClientIpResolver(['fd00::/8'])
    expect(clientIp('fd00::1', '2001:db8::7, fd12::3')).toBe('2001:db8::7')
    expect(clientIp('2001:db8::9', '2001:db8::7')).toBe('2001:db8::9')
  })

  it('treats IPv4-mapped IPv6 peers and entries as their IPv4 address', () => {
    const clientIp = createClientIpResolver(['127.0.0.1'])
    expect(clientIp('::ffff:127.0.0.1', '203.0.113.7')).toBe('203.0.113.7')
    expect(clientIp('::ffff:127.0.0.1', '::ffff:127.0.0.1, ::FFFF:198.51.100.4')).toBe('198.51.100.4')
    expect(clientIp('::ffff:203.0.113.7', '6.6.6.6')).toBe('203.0.113.7')
    expect(clientIp('::ffff:7f00:1', '203.0.113.8')).toBe('203.0.113.8')
  })

  it('joins several X-Forwarded-For header lines in order', () => {
    const clientIp = createClientIpResolver(['10.0.0.0/8'])
    expect(clientIp('10.0.0.2', ['6.6.6.6, 203.0.113.7', '10.1.1.1'])).toBe('203.0.113.7')
    expect(clientIp('10.0.0.2', ['203.0.113.7', '10.1.1.1,', ' 10.2.2.2 '])).toBe('203.0.113.7')
  })

  it('answers an empty string when the peer is unknown', () => {
    const clientIp = createClientIpResolver(['10.0.0.0/8'])
    expect(clientIp(undefined, '203.0.113.7')).toBe('')
    expect(clientIp('', '203.0.113.7')).toBe('')
  })
})
