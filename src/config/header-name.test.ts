import { describe, expect, it } from 'vitest'
import { headerNameProblem } from './header-name.js'

describe('headerNameProblem', () => {
  it('accepts header names in any case', () => {
    for (const name of ['X-Debug-User', 'x-tenant', 'X_Legacy', "a!#$%&'*+-.^_`|~9"])
      expect(headerNameProblem(name), name).toBeUndefined()
  })

  it('says why a name cannot be stripped', () => {
    expect(headerNameProblem('')).toBe('is empty; give a header name such as "X-Debug-User"')
    expect(headerNameProblem('X-Debug: 1')).toBe(
      `"X-Debug: 1" is not a header name (letters, digits and !#$%&'*+-.^_\`|~ only, no spaces or colons)`,
    )
    expect(headerNameProblem('Content-Length')).toBe(
      '"Content-Length" is set by the gateway itself and cannot be stripped',
    )
    expect(headerNameProblem('host')).toBe('"host" is set by the gateway itself and cannot be stripped')
  })
})
