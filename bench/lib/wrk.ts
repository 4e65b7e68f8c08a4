import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const LUA = join(dirname(fileURLToPath(import.meta.url)), '..', 'wrk')

export interface WrkResult {
  readonly requests: number
  readonly seconds: number
  readonly rps: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  /** connect/read/write/timeout errors and non-2xx/3xx answers */
  readonly errors: number
  readonly non2xx: number
}

export interface WrkRun {
  readonly url: string
  readonly connections: number
  readonly seconds: number
  /** a paid path: the credentials file, one Authorization value a line */
  readonly credentials?: string
}

/** One wrk run in its own process (one thread: the machine has two cores to share). */
export function runWrk(run: WrkRun): Promise<WrkResult> {
  const url = new URL(run.url)
  const args = ['-t1', `-c${run.connections}`, `-d${run.seconds}s`, '--timeout', '10s']
  if (run.credentials) args.push('-s', join(LUA, 'paid.lua'), url.origin, '--', run.credentials, url.pathname)
  else args.push('-s', join(LUA, 'report.lua'), run.url)
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '))
      if (code !== 0 || !line) return reject(new Error(`wrk ${args.join(' ')} failed (${code}):\n${out}`))
      const raw = JSON.parse(line.slice('WRK_JSON '.length)) as {
        requests: number
        durationUs: number
        errors: Record<string, number>
        p50Us: number
        p90Us: number
        p99Us: number
      }
      const seconds = raw.durationUs / 1e6
      const errors = Object.values(raw.errors).reduce((a, b) => a + b, 0)
      resolve({
        requests: raw.requests,
        seconds,
        rps: raw.requests / seconds,
        p50Ms: raw.p50Us / 1000,
        p90Ms: raw.p90Us / 1000,
        p99Ms: raw.p99Us / 1000,
        errors,
        non2xx: raw.errors.status ?? 0,
      })
    })
  })
}
