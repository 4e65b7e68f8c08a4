/**
 * The CLI's commands and flags, in one table: the parser and `help` both read it, so every flag is
 * listed in the help it belongs to.
 */
export interface FlagSpec {
  readonly short?: string
  readonly type: 'string' | 'boolean'
  readonly multiple?: boolean
  /** e.g. FILE, shown after the flag */
  readonly value?: string
  readonly default?: string
  readonly help: string
}

export interface CommandSpec {
  readonly name: string
  readonly usage: string
  readonly summary: string
  readonly flags: Readonly<Record<string, FlagSpec>>
  /** lines after the flag list */
  readonly notes?: readonly string[]
  /** `name` is what a missing positional is called in the usage error */
  readonly positionals: { readonly min: number; readonly max: number; readonly name?: string }
}

const CONFIG: FlagSpec = {
  short: 'c',
  type: 'string',
  value: 'FILE',
  default: 'gateway.config.yaml',
  help: 'the config file',
}
const HELP: FlagSpec = { short: 'h', type: 'boolean', help: 'show this help' }

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'serve',
    usage: 'mpp-gateway [serve] [-c FILE] [--sandbox]',
    summary: 'run the gateway (the default command)',
    flags: {
      config: CONFIG,
      sandbox: {
        type: 'boolean',
        help: 'also run local Stripe and Tempo stand-ins and point the methods at them (no keys, no network)',
      },
      help: HELP,
    },
    notes: ['SIGHUP reloads the config; SIGTERM or SIGINT drains and exits 0.'],
    positionals: { min: 0, max: 0 },
  },
  {
    name: 'check',
    usage: 'mpp-gateway check [-c FILE]',
    summary: 'validate the config and print each route with its price per method',
    flags: { config: CONFIG, help: HELP },
    positionals: { min: 0, max: 0 },
  },
  {
    name: 'healthcheck',
    usage: 'mpp-gateway healthcheck [-c FILE]',
    summary: "probe the running gateway's /__gateway/healthz at the config's listen address (for HEALTHCHECK)",
    flags: { config: CONFIG, help: HELP },
    notes: ['Exits 0 when healthz answers 200 within 3 s, else 1.'],
    positionals: { min: 0, max: 0 },
  },
  {
    name: 'payments',
    usage: 'mpp-gateway payments [-c FILE] [--route R] [--since T] [--limit N] [--json]',
    summary: "list the payments in the ledger of the config's store (store.url), one per challenge",
    flags: {
      config: CONFIG,
      route: { type: 'string', value: 'R', help: 'only this route, its match as in the config ("GET /v1/x")' },
      since: {
        type: 'string',
        value: 'T',
        help: 'only payments settled since T: an ISO time (2026-12-01T09:00:00Z) or a duration back (30m, 1h, 7d)',
      },
      limit: { type: 'string', value: 'N', default: '50', help: 'the newest N payments' },
      json: { type: 'boolean', help: 'JSON lines even on a terminal' },
      help: HELP,
    },
    notes: [
      'On a terminal: a table, oldest first, then the totals charged per method and currency. Piped or with',
      '--json: one JSON object per line with the amount in base units, its price as check shows it, the state,',
      'the upstream status and the number of ledger entries (more than 1: served again). No secret is printed.',
      'Exits 1 when there is no store.url (the in-memory ledger lives inside the gateway) or Redis fails.',
    ],
    positionals: { min: 0, max: 0 },
  },
  {
    name: 'pay',
    usage: 'mpp-gateway pay URL [-m stripe|tempo] [-X METHOD] [-d BODY] [-H "Name: value"] [--sandbox]',
    summary: 'pay for a priced URL with the mppx client and print the 402, the payment and the receipt',
    flags: {
      method: {
        short: 'm',
        type: 'string',
        value: 'NAME',
        help: 'the payment method: stripe or tempo (default: the first one the 402 offers)',
      },
      request: { short: 'X', type: 'string', value: 'METHOD', help: 'the HTTP method (default: GET, or POST with -d)' },
      data: { short: 'd', type: 'string', value: 'BODY', help: 'the request body' },
      header: {
        short: 'H',
        type: 'string',
        multiple: true,
        value: '"Name: value"',
        help: 'a request header (repeatable)',
      },
      sandbox: {
        type: 'boolean',
        help: 'pay with the stand-ins of `serve --sandbox` (a funded test wallet, a test card)',
      },
      help: HELP,
    },
    notes: [
      'Without --sandbox the keys come from the environment: STRIPE_SECRET_KEY (mints a Shared Payment Token',
      'for pm_card_visa on a test key), TEMPO_PRIVATE_KEY and TEMPO_RPC_URL (default https://rpc.moderato.tempo.xyz).',
      'Exits 0 when the paid request gets a 2xx with a Payment-Receipt, else 1. No token, key or credential is printed.',
    ],
    positionals: { min: 1, max: 1, name: 'the URL to pay for' },
  },
  {
    name: 'help',
    usage: 'mpp-gateway help [COMMAND]',
    summary: 'show the help, or the help of one command',
    flags: {},
    positionals: { min: 0, max: 1 },
  },
  {
    name: 'version',
    usage: 'mpp-gateway version (or -v, --version)',
    summary: 'print the version',
    flags: {},
    positionals: { min: 0, max: 0 },
  },
]

export const EXIT_CODES = [
  '0  ok',
  '1  config error, or the gateway could not start or the command failed',
  '2  usage error (an unknown command or flag)',
]

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((command) => command.name === name)
}

/** `mpp-gateway help`: every command with its flags, and the exit codes. */
export function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  return [
    'mpp-gateway: a reverse proxy that charges for HTTP routes with the Machine Payments Protocol (HTTP 402).',
    '',
    'Usage: mpp-gateway COMMAND [flags]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Global flags:',
    '  -h, --help     show help (also: mpp-gateway help COMMAND, mpp-gateway COMMAND --help)',
    '  -v, --version  print the version',
    '',
    'Exit codes:',
    ...EXIT_CODES.map((line) => `  ${line}`),
    '',
  ].join('\n')
}

/** `mpp-gateway help COMMAND`: its usage and every flag, short and long. */
export function commandHelp(command: CommandSpec): string {
  const flags = Object.entries(command.flags).map(([name, flag]) => {
    const names = `${flag.short ? `-${flag.short}, ` : '    '}--${name}${flag.value ? ` ${flag.value}` : ''}`
    return [names, `${flag.help}${flag.default ? ` (default: ${flag.default})` : ''}`] as const
  })
  const width = Math.max(0, ...flags.map(([names]) => names.length))
  return [
    `Usage: ${command.usage}`,
    '',
    `${command.summary[0]!.toUpperCase()}${command.summary.slice(1)}.`,
    ...(flags.length > 0 ? ['', 'Flags:', ...flags.map(([names, help]) => `  ${names.padEnd(width)}  ${help}`)] : []),
    ...(command.notes ? ['', ...command.notes] : []),
    '',
    'Exit codes:',
    ...EXIT_CODES.map((line) => `  ${line}`),
    '',
  ].join('\n')
}
