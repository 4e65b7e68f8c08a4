/**
 * One JSON object per line. Callers pass only fields that are safe to log: credentials, SPTs,
 * keys and Authorization values are never handed to the logger in the first place.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFields = Record<string, unknown>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export function createLogger(
  options: { level?: LogLevel; write?: (line: string) => void; base?: LogFields } = {},
): Logger {
  const threshold = RANK[options.level ?? 'info']
  // fields on every line, e.g. which worker process wrote it
  const base = options.base
  const write = options.write ?? writeStdoutInBatches
  const log = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (RANK[level] < threshold) return
    // A replacer takes JSON.stringify off its fast path; only fields holding objects or bigints need it.
    const replacer = fields !== undefined && needsReplacer(fields) ? errorsAsText : undefined
    write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...base, ...fields }, replacer)}\n`)
  }
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
}

function needsReplacer(fields: LogFields): boolean {
  for (const key in fields) {
    const value = fields[key]
    if ((typeof value === 'object' && value !== null) || typeof value === 'bigint') return true
  }
  return false
}

let pending: string[] = []
let pendingBytes = 0
let flushScheduled = false

/** Writes what is pending now (also on exit, so no line is lost). */
function flushStdout(): void {
  flushScheduled = false
  if (pending.length === 0) return
  const lines = pending.join('')
  pending = []
  pendingBytes = 0
  process.stdout.write(lines)
}

/**
 * Lines logged in one turn of the event loop go out in one write: a write per request line was a
 * system call per request (stdout to a file or pipe is synchronous on Linux).
 */
function writeStdoutInBatches(line: string): void {
  pending.push(line)
  pendingBytes += line.length
  if (pendingBytes >= 64 * 1024) return flushStdout()
  if (flushScheduled) return
  if (!exitHooked) {
    exitHooked = true
    process.once('exit', flushStdout)
  }
  flushScheduled = true
  setImmediate(flushStdout)
}
let exitHooked = false

function errorsAsText(_key: string, value: unknown): unknown {
  if (value instanceof Error) return `${value.name}: ${value.message}`
  if (typeof value === 'bigint') return value.toString()
  return value
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }
