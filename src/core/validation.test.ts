import { describe, expect, it } from 'vitest'
import { invalidResponse, validationOf } from './validation.js'

describe('validationOf', () => {
  const answer = (status: number) => ({ ok: true as const, status, headers: [['X-A', '1']] as const, body: '{}' })
  it('lets a 2xx go ahead, hands back a 4xx, and makes anything else unavailable', () => {
    expect(validationOf(answer(200))).toStrictEqual({ kind: 'valid' })
    expect(validationOf(answer(204))).toStrictEqual({ kind: 'valid' })
    expect(validationOf(answer(422))).toStrictEqual({
      kind: 'invalid',
      status: 422,
      headers: [['X-A', '1']],
      body: '{}',
    })
    expect(validationOf(answer(302))).toStrictEqual({
      kind: 'unavailable',
      detail: 'The validation request answered 302.',
    })
    expect(validationOf(answer(503))).toMatchObject({ kind: 'unavailable' })
    expect(validationOf({ ok: false, message: 'no response from the upstream within 30000 ms' })).toStrictEqual({
      kind: 'unavailable',
      detail: 'The validation request failed: no response from the upstream within 30000 ms.',
    })
  })
})

describe('invalidResponse', () => {
  it('keeps the upstream status, body and repeated headers, and is never cached', () => {
    const response = invalidResponse({
      kind: 'invalid',
      status: 400,
      headers: [
        ['Content-Type', 'application/json'],
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
        ['Cache-Control', 'max-age=60'],
      ],
      body: '{"error":"bad"}',
    })
    expect(response).toStrictEqual({
      status: 400,
      headers: { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'], 'cache-control': 'no-store' },
      body: '{"error":"bad"}',
    })
  })
})
