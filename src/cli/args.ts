import { parseArgs } from 'node:util'
import { type CommandSpec, findCommand } from './commands.js'

export type Parsed =
  | {
      readonly kind: 'run'
      readonly command: CommandSpec
      readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>
      readonly positionals: readonly string[]
    }
  | { readonly kind: 'help'; readonly command?: CommandSpec }
  | { readonly kind: 'version' }
  | { readonly kind: 'usage-error'; readonly message: string; readonly command?: CommandSpec }

const GLOBAL = new Set(['-h', '--help', '-v', '--version'])

/** Reads argv into a command to run, a help or version request, or a usage error (exit 2). */
export function parseCommandLine(argv: readonly string[]): Parsed {
  const first = argv[0]
  if (first === undefined || (first.startsWith('-') && !GLOBAL.has(first))) return parseFor(findCommand('serve')!, argv)
  if (first === '-h' || first === '--help') return { kind: 'help' }
  if (first === '-v' || first === '--version' || first === 'version')
    return argv.length === 1
      ? { kind: 'version' }
      : { kind: 'usage-error', message: `unexpected argument "${argv[1]}"` }
  if (first === 'help') {
    if (argv.length > 2) return { kind: 'usage-error', message: `unexpected argument "${argv[2]}"` }
    if (argv[1] === undefined) return { kind: 'help' }
    const command = findCommand(argv[1])
    return command ? { kind: 'help', command } : { kind: 'usage-error', message: `unknown command "${argv[1]}"` }
  }
  const command = findCommand(first)
  if (!command) return { kind: 'usage-error', message: `unknown command "${first}"` }
  return parseFor(command, argv.slice(1))
}

function parseFor(command: CommandSpec, args: readonly string[]): Parsed {
  const options = Object.fromEntries(
    Object.entries(command.flags).map(([name, flag]) => [
      name,
      { type: flag.type, ...(flag.short ? { short: flag.short } : {}), ...(flag.multiple ? { multiple: true } : {}) },
    ]),
  )
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true })
  } catch (error) {
    // Node's messages end with a hint about "--" that does not apply to every case; keep the first sentence.
    return {
      kind: 'usage-error',
      message: String((error as Error).message)
        .split('. ')[0]!
        .replace(/\.$/, ''),
      command,
    }
  }
  if (parsed.values.help) return { kind: 'help', command }
  const { min, max } = command.positionals
  if (parsed.positionals.length > max)
    return { kind: 'usage-error', message: `unexpected argument "${parsed.positionals[max]}"`, command }
  if (parsed.positionals.length < min)
    return { kind: 'usage-error', message: `missing ${command.positionals.name ?? 'an argument'}`, command }
  const values = { ...parsed.values } as Record<string, string | boolean | string[] | undefined>
  for (const [name, flag] of Object.entries(command.flags))
    if (values[name] === undefined && flag.default !== undefined) values[name] = flag.default
  return { kind: 'run', command, values, positionals: parsed.positionals }
}
