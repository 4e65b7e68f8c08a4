import { type ChildProcess, spawn } from 'node:child_process'
import { resolve } from 'node:path'

export const CLI = resolve('dist/cli/main.js')

export interface GatewayProcess {
  url: string
  /** the admin listener, from the same log line; undefined with `admin: false` */
  adminUrl?: string
  output: string[]
  child: ChildProcess
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Runs the built CLI (`node dist/cli/main.js serve`) as its own process, as an operator would. */
export async function spawnGateway(configFile: string, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  let adminUrl: string | undefined
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${output.join('')}`)), 15_000)
    const onData = (data: Buffer) => {
      output.push(data.toString())
      for (const line of data.toString().split('\n')) {
        if (!line.includes('gateway listening')) continue
        clearTimeout(timer)
        const listening = JSON.parse(line) as { url: string; admin?: string }
        adminUrl = listening.admin
        resolveUrl(listening.url)
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (data: Buffer) => output.push(data.toString()))
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`gateway exited with ${code}:\n${output.join('')}`))
    })
  })
  return {
    url,
    adminUrl,
    output,
    child,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolveExit) => {
        // a process already killed (with -9, say) has a signalCode and no exit event to come
        if (child.exitCode !== null || child.signalCode !== null) return resolveExit(child.exitCode)
        child.once('exit', (code) => resolveExit(code))
        child.kill(signal)
      }),
  }
}

/**
 * Runs the CLI to completion and returns its exit code and output. After `timeoutMs` the child is
 * killed and `code` is null, so a CLI that hangs fails the test instead of outliving it.
 */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolveRun({ code, stdout, stderr })
    })
  })
}
