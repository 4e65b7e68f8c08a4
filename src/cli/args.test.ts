import { describe, expect, it } from 'vitest'
import { parseCommandLine } from './args.js'

const run = (argv: string[]) => {
  const parsed = parseCommandLine(argv)
  return parsed.kind === 'run'
    ? { command: parsed.command.name, values: parsed.values, positionals: parsed.positionals }
    : parsed
}

describe('parseCommandLine', () => {
  it('runs serve by default, with the default config, also when only flags are given', () => {
    expect(run([])).toEqual({ command: 'serve', values: { config: 'gateway.config.yaml' }, positionals: [] })
    expect(run(['-c', 'x.yaml', '--sandbox'])).toEqual({
      command: 'serve',
      values: { config: 'x.yaml', sandbox: true },
      positionals: [],
    })
  })

  it('reads pay with its short and long flags, -H repeatable', () => {
    expect(
      run(['pay', 'localhost:8402/a', '-m', 'tempo', '-X', 'POST', '--data', '{}', '-H', 'A: 1', '--header', 'B: 2']),
    ).toEqual({
      command: 'pay',
      values: { method: 'tempo', request: 'POST', data: '{}', header: ['A: 1', 'B: 2'] },
      positionals: ['localhost:8402/a'],
    })
  })

  it('tells help, version and usage errors apart', () => {
    expect(parseCommandLine(['help', 'check'])).toMatchObject({ kind: 'help', command: { name: 'check' } })
    expect(parseCommandLine(['check', '--help'])).toMatchObject({ kind: 'help', command: { name: 'check' } })
    expect(parseCommandLine(['-v'])).toEqual({ kind: 'version' })
    expect(parseCommandLine(['--version', 'x'])).toEqual({ kind: 'usage-error', message: 'unexpected argument "x"' })
    expect(parseCommandLine(['serve', '--port', '1'])).toMatchObject({
      kind: 'usage-error',
      message: "Unknown option '--port'",
    })
    expect(parseCommandLine(['pay'])).toMatchObject({ kind: 'usage-error', message: 'missing the URL to pay for' })
  })
})
