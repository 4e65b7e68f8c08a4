import { keccak256, stringToBytes } from 'viem'
import { describe, expect, it } from 'vitest'
import { encode, isBoundTo, tag } from './attribution-memo.js'

const REALM = 'api.example.com'
const CHALLENGE = 'ch_9TQvYpL2'

/**
 * Vectors computed once with mppx 0.11's own `Attribution.encode({ serverId: realm, challengeId, clientId })`
 * (node_modules/mppx/dist/tempo/Attribution.js). The module is not in mppx's package exports, so it
 * cannot be imported here; these bytes are what an mppx client puts on chain for this challenge.
 */
const MPPX_WITH_CLIENT = '0xef1ed712011ece072f76bd8b82350e13f85972c34310403135c8ea6deaf93f58'
const MPPX_ANONYMOUS = '0xef1ed712011ece072f76bd8b82350e00000000000000000000c8ea6deaf93f58'

const prefix = (value: string, bytes: number) => keccak256(stringToBytes(value)).slice(2, 2 + bytes * 2)

describe('encode', () => {
  it('matches the memo an mppx client writes, with and without a client id', () => {
    expect(encode({ realm: REALM, challengeId: CHALLENGE, clientId: 'my-agent' })).toBe(MPPX_WITH_CLIENT)
    expect(encode({ realm: REALM, challengeId: CHALLENGE })).toBe(MPPX_ANONYMOUS)
  })

  it('lays out tag, version, realm, client and challenge fingerprints in 32 bytes', () => {
    const memo = encode({ realm: REALM, challengeId: CHALLENGE, clientId: 'my-agent' })
    expect(memo).toMatch(/^0x[0-9a-f]{64}$/)
    const hex = memo.slice(2)
    expect(hex.slice(0, 8)).toBe('ef1ed712')
    expect(tag).toBe('0xef1ed712')
    expect(hex.slice(8, 10)).toBe('01')
    expect(hex.slice(10, 30)).toBe(prefix(REALM, 10))
    expect(hex.slice(30, 50)).toBe(prefix('my-agent', 10))
    expect(hex.slice(50, 64)).toBe(prefix(CHALLENGE, 7))
  })

  it('writes ten zero bytes for an anonymous client', () => {
    expect(encode({ realm: REALM, challengeId: CHALLENGE }).slice(32, 52)).toBe('00'.repeat(10))
  })
})

describe('isBoundTo', () => {
  const binding = { realm: REALM, challengeId: CHALLENGE }

  it('accepts the memo of this realm and challenge, whatever the client id', () => {
    expect(isBoundTo(MPPX_WITH_CLIENT, binding)).toBe(true)
    expect(isBoundTo(MPPX_ANONYMOUS, binding)).toBe(true)
    expect(isBoundTo(encode({ ...binding, clientId: 'someone else' }), binding)).toBe(true)
    // the client bytes are a free-form label: arbitrary bytes there are still bound
    expect(isBoundTo(`${MPPX_ANONYMOUS.slice(0, 32)}${'ab'.repeat(10)}${MPPX_ANONYMOUS.slice(52)}`, binding)).toBe(true)
  })

  it('accepts upper-case hex digits', () => {
    expect(isBoundTo(`0x${MPPX_WITH_CLIENT.slice(2).toUpperCase()}`, binding)).toBe(true)
  })

  it('refuses the memo of another challenge or another realm', () => {
    expect(isBoundTo(encode({ realm: REALM, challengeId: 'ch_other' }), binding)).toBe(false)
    expect(isBoundTo(encode({ realm: 'api.other.example', challengeId: CHALLENGE }), binding)).toBe(false)
  })

  it('refuses another tag or another version', () => {
    const memo = encode(binding)
    expect(isBoundTo(`0x00${memo.slice(4)}`, binding)).toBe(false)
    expect(isBoundTo(`${memo.slice(0, 10)}02${memo.slice(12)}`, binding)).toBe(false)
  })

  it('refuses any single changed byte in the tag, version, realm or challenge fields', () => {
    const memo = encode(binding)
    for (let byte = 0; byte < 32; byte++) {
      if (byte >= 15 && byte <= 24) continue // client id: not checked
      const at = 2 + byte * 2
      const flipped = (Number.parseInt(memo.slice(at, at + 2), 16) ^ 0x01).toString(16).padStart(2, '0')
      expect(isBoundTo(`${memo.slice(0, at)}${flipped}${memo.slice(at + 2)}`, binding), `byte ${byte}`).toBe(false)
    }
  })

  it('refuses missing and malformed memos', () => {
    const memo = encode(binding)
    for (const bad of [
      undefined,
      '',
      '0x',
      memo.slice(2),
      memo.slice(0, -2),
      `${memo}00`,
      `${memo.slice(0, -1)}g`,
      ` ${memo}`,
      `0X${memo.slice(2)}`,
    ]) {
      expect(isBoundTo(bad, binding), String(bad)).toBe(false)
    }
  })
})
