import { describe, expect, it } from 'vitest'
import { expandEnv } from './expand-env.js'

const env = { A: 'alpha', EMPTY: '', B_2: 'two' }

describe('expandEnv', () => {
  it('expands ${VAR}', () => {
    expect(expandEnv('x${A}y${B_2}', env)).toEqual({ value: 'xalphaytwo', missing: [] })
  })

  it('leaves text without references alone', () => {
    expect(expandEnv('plain text', env)).toEqual({ value: 'plain text', missing: [] })
    expect(expandEnv('', env)).toEqual({ value: '', missing: [] })
  })

  it('uses the default when the variable is unset or empty', () => {
    expect(expandEnv('${NOPE:-fallback}', env)).toEqual({ value: 'fallback', missing: [] })
    expect(expandEnv('${EMPTY:-fallback}', env)).toEqual({ value: 'fallback', missing: [] })
    expect(expandEnv('${A:-fallback}', env)).toEqual({ value: 'alpha', missing: [] })
    expect(expandEnv('${NOPE:-}', env)).toEqual({ value: '', missing: [] })
    expect(expandEnv('${NOPE:-a:-b $x}', env)).toEqual({ value: 'a:-b $x', missing: [] })
  })

  it('expands an unset variable to "" and reports it once', () => {
    expect(expandEnv('${NOPE}-${NOPE}-${OTHER}', env)).toEqual({ value: '--', missing: ['NOPE', 'OTHER'] })
  })

  it('keeps a set-but-empty variable without default and does not report it', () => {
    expect(expandEnv('[${EMPTY}]', env)).toEqual({ value: '[]', missing: [] })
  })

  it('turns $$ into $ and keeps a lone $', () => {
    expect(expandEnv('$${A}', env)).toEqual({ value: '${A}', missing: [] })
    expect(expandEnv('a$$b', env)).toEqual({ value: 'a$b', missing: [] })
    expect(expandEnv('$A $ 5$', env)).toEqual({ value: '$A $ 5$', missing: [] })
  })

  it('does not expand values recursively', () => {
    expect(expandEnv('${X}', { X: '${A}' })).toEqual({ value: '${A}', missing: [] })
  })

  it('throws on invalid syntax, without echoing the text', () => {
    expect(() => expandEnv('secret${', env)).toThrow('unclosed "${" at character 7')
    expect(() => expandEnv('${A', env)).toThrow(/unclosed/)
    expect(() => expandEnv('${}', env)).toThrow(/invalid variable reference at character 1/)
    expect(() => expandEnv('${1A}', env)).toThrow(/invalid variable reference/)
    expect(() => expandEnv('${A-x}', env)).toThrow(/invalid variable reference/)
    expect(() => expandEnv('${A B}', env)).toThrow(/invalid variable reference/)
    expect(() => expandEnv('${A:-${B}}', env)).toThrow(/nested/)
    try {
      expandEnv('hunter2${oops', env)
    } catch (error) {
      expect(String(error)).not.toContain('hunter2')
    }
  })
})
