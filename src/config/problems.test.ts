import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { errorLines, fail, found, newProblems, section, unsetVariables, warningLines } from './problems.js'

describe('the problems of one load', () => {
  it('names the unset variables of a value in its error, not of a key', () => {
    const problems = newProblems()
    problems.missing.set('realm', ['REALM'])
    problems.missing.set('odd', ['ODD'])
    fail(problems, 'realm', 'is empty')
    fail(problems, 'odd', 'unknown key', false)
    fail(problems, '', 'the file is empty')
    expect(errorLines(problems, 'f.yaml')).toEqual([
      'f.yaml: realm: is empty (environment variable REALM is not set)',
      'f.yaml: odd: unknown key',
      'f.yaml: the file is empty',
    ])
  })

  it('warns of an unset variable only where no error or notice explains it, then the notices', () => {
    const problems = newProblems()
    problems.missing.set('realm', ['REALM'])
    problems.missing.set('log.level', ['LEVEL'])
    problems.missing.set('methods.tempo.recipient', ['RECIPIENT'])
    fail(problems, 'realm', 'is empty')
    found(problems, [{ path: 'methods.tempo.recipient', notice: 'is empty, so the tempo method is disabled' }])
    expect(warningLines(problems, 'f.yaml')).toEqual([
      'f.yaml: log.level: environment variable LEVEL is not set, so it expands to ""',
      'f.yaml: methods.tempo.recipient: is empty, so the tempo method is disabled',
    ])
  })

  it('checks a part by its schema, keeping no second problem at a path already reported', () => {
    const problems = newProblems()
    fail(problems, 'realm', 'has a bad ${')
    expect(section(problems, z.string(), 1, 'realm', 'fallback')).toBe('fallback')
    expect(section(problems, z.string(), 2, 'currency', 'usd')).toBe('usd')
    expect(section(problems, z.string(), 'ok', 'mode', undefined)).toBe('ok')
    expect(problems.issues.map(({ path, problem }) => `${path}: ${problem}`)).toEqual([
      'realm: has a bad ${',
      'currency: must be a string (got a number)',
    ])
  })

  it('says whether findings held a problem', () => {
    const problems = newProblems()
    expect(found(problems, [{ path: 'a', notice: 'n' }])).toBe(true)
    expect(
      found(problems, [
        { path: 'b', problem: 'p' },
        { path: 'c', notice: 'n' },
      ]),
    ).toBe(false)
    expect(problems.issues).toEqual([{ path: 'b', problem: 'p', aboutValue: true }])
    expect(problems.notices).toEqual([
      { path: 'a', message: 'n' },
      { path: 'c', message: 'n' },
    ])
  })

  it('lists the variables a string referenced that are unset or empty, once each, from its text as written', () => {
    const problems = newProblems()
    problems.written.set('upstream.url', '$${A}${B}${C:-x}${B}${D}')
    expect(unsetVariables(problems, { C: '', D: 'set' }, 'upstream.url')).toEqual(['B', 'C'])
    expect(unsetVariables(problems, {}, 'realm')).toEqual([])
  })
})
