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

export function createLogger(options: { level?: LogLevel; write?: (line: string) => void } = {}): Logger {
  const threshold = RANK[options.level ?? 'info']
  const write = options.write ?? ((line: string) => process.stdout.write(line))
  const log = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (RANK[level] < threshold) return
    write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields }, errorsAsText)}\n`)
  }
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
}

function errorsAsText(_key: string, value: unknown): unknown {
  if (value instanceof Error) return `${value.name}: ${value.message}`
  if (typeof value === 'bigint') return value.toString()
  return value
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }
