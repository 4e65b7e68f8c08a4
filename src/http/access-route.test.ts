import { describe, expect, it } from 'vitest'
import { paramOf, presentedKey } from './access-route.js'

const KEY = `mppk_${'a'.repeat(43)}`
const incoming = (headers: Record<string, string[]>) => ({ headersDistinct: headers })

describe('presentedKey', () => {
  it('takes the grant header first, else the first Bearer token', () => {
    expect(presentedKey(incoming({ 'x-api-key': [KEY] }), 'X-Api-Key')).toEqual({ key: KEY })
    expect(presentedKey(incoming({ authorization: [`Bearer ${KEY}`] }), 'X-Api-Key')).toEqual({ key: KEY })
    expect(presentedKey(incoming({}), 'X-Api-Key')).toEqual({})
    expect(presentedKey(incoming({ 'x-api-key': [''] }), 'X-Api-Key')).toEqual({})
  })

  it('keeps other Authorization schemes for the upstream, never a Payment credential or a key of ours', () => {
    expect(
      presentedKey(
        incoming({ 'x-api-key': [KEY], authorization: [`Basic dTpw, Bearer ${KEY}, Payment abc`] }),
        'X-Api-Key',
      ),
    ).toEqual({ key: KEY, authorization: 'Basic dTpw' })
    expect(presentedKey(incoming({ authorization: [`Bearer ${KEY}`, 'Bearer upstream-token'] }), 'X-Api-Key')).toEqual({
      key: KEY,
      authorization: 'Bearer upstream-token',
    })
  })
})

describe('paramOf', () => {
  it('reads the :param segment of a canonical path, percent-decoded', () => {
    expect(paramOf('/agent/orders/:id', '/agent/orders/ord_1', 'id')).toBe('ord_1')
    expect(paramOf('/agent/orders/:id', '/agent/orders/ord_1/', 'id')).toBe('ord_1')
    expect(paramOf('/v1/:org/orders/:id', '/v1/acme/orders/ord%201', 'id')).toBe('ord 1')
    expect(paramOf('/v1/:org/orders/:id', '/v1/acme/orders/x', 'org')).toBe('acme')
    expect(paramOf('/agent/orders/:id', '/agent/orders', 'id')).toBeUndefined()
  })
})
