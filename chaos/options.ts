/** The chaos run's command line: `npm run chaos -- [--credentials N] [--concurrency C] [--seed S] [--short] [--no-write]`. */
export interface ChaosOptions {
  credentials: number
  concurrency: number
  seed: number
  short: boolean
  write: boolean
  /** how long a client keeps retrying one credential: longer than any fault plus a lease */
  retryWindowMs: number
  /** share of first attempts the client aborts after a short random delay */
  abortFraction: number
}

export const DEFAULTS = { credentials: 3000, shortCredentials: 300, concurrency: 32, retryWindowMs: 30_000 }

export function parseOptions(argv: readonly string[]): ChaosOptions {
  const options: ChaosOptions = {
    credentials: DEFAULTS.credentials,
    concurrency: DEFAULTS.concurrency,
    seed: Date.now() % 1_000_000,
    short: false,
    write: true,
    retryWindowMs: DEFAULTS.retryWindowMs,
    abortFraction: 0.05,
  }
  let credentialsGiven = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const value = () => {
      const v = Number(argv[++i])
      if (!Number.isInteger(v) || v < 1) throw new Error(`${arg} needs a positive integer`)
      return v
    }
    if (arg === '--credentials') {
      options.credentials = value()
      credentialsGiven = true
    } else if (arg === '--concurrency') options.concurrency = value()
    else if (arg === '--seed') options.seed = value()
    else if (arg === '--short') options.short = true
    else if (arg === '--no-write') options.write = false
    else if (arg === '--help' || arg === '-h') throw new Error(USAGE)
    else throw new Error(`unknown option ${arg}\n${USAGE}`)
  }
  if (options.short && !credentialsGiven) options.credentials = DEFAULTS.shortCredentials
  return options
}

export const USAGE =
  'usage: npm run chaos -- [--credentials N (3000)] [--concurrency C (32)] [--seed S] [--short (300 credentials)] [--no-write]'
