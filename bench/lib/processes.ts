import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process'
import { openSync, readdirSync, readFileSync } from 'node:fs'

/** Children started by the bench, stopped (by their own pid) when it ends. */
const started: ChildProcess[] = []

export function stopAll(): void {
  // SIGTERM, not SIGKILL: a killed nginx master leaves its workers running; on SIGTERM it stops them.
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
}
process.on('exit', stopAll)

/** A Node child with an IPC channel; resolves with its first message (where it listens). */
export async function forkServer<T extends object>(
  script: string,
  env: Record<string, string> = {},
  execArgv: string[] = [],
  stderr: 'inherit' | 'ignore' = 'inherit',
): Promise<{ child: ChildProcess; hello: T }> {
  const child = fork(script, [], {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ['ignore', 'ignore', stderr, 'ipc'],
  })
  started.push(child)
  const hello = await new Promise<T>((resolve, reject) => {
    child.once('message', (message) => resolve(message as T))
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready`)))
  })
  return { child, hello }
}

/** A child with its stdout going to /dev/null (the gateway's request log: written, not kept). */
export function spawnQuiet(command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  // BENCH_GATEWAY_LOG=file keeps the log (appended) for debugging a run.
  const out = openSync(process.env.BENCH_GATEWAY_LOG ?? '/dev/null', 'a')
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', out, 'inherit'] })
  started.push(child)
  return child
}

export function track(child: ChildProcess): void {
  started.push(child)
}

/** Waits until `url` answers at all. */
export async function waitForHttp(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      await fetch(url)
      return
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`)
}

function rssKb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) : 0
  } catch {
    return 0
  }
}

/** The pid and every descendant (cluster workers, nginx workers). */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)])
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid]
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i]!) ?? []))
  return tree
}

/** Resident memory of a process and its descendants, in MB. */
export function treeRssMb(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + rssKb(p), 0) / 1024
}

/** CPU time (user + system) a process tree has used so far, in ms (clock ticks are 10 ms). */
export function treeCpuMs(pid: number): number {
  let ticks = 0
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // gone meanwhile
    }
  }
  return ticks * 10
}

/**
 * Samples a process tree's RSS every `everyMs` until stopped; returns the peak, the last sample,
 * and the CPU time the tree used meanwhile.
 */
export function sampleRss(pid: number, everyMs = 250): () => { peakMb: number; lastMb: number; cpuMs: number } {
  const cpuBefore = treeCpuMs(pid)
  let peakMb = treeRssMb(pid)
  let lastMb = peakMb
  const timer = setInterval(() => {
    lastMb = treeRssMb(pid)
    peakMb = Math.max(peakMb, lastMb)
  }, everyMs)
  return () => {
    clearInterval(timer)
    return { peakMb, lastMb, cpuMs: treeCpuMs(pid) - cpuBefore }
  }
}

export function which(command: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}

/** Installs a Debian package when the command is missing; returns why not when it cannot. */
export function ensureDebianPackage(command: string, pkg: string): string | undefined {
  if (which(command)) return undefined
  const root = process.getuid?.() === 0
  const sudo = root ? [] : which('sudo') ? ['sudo', '-n'] : undefined
  if (!sudo || !which('apt-get'))
    return `${command} is missing and cannot be installed here (no apt-get${root ? '' : ' or sudo'})`
  process.stdout.write(`installing ${pkg} from Debian's packages …\n`)
  try {
    const run = (args: string[]) =>
      execFileSync(sudo[0] ?? args[0]!, sudo.length ? [...sudo.slice(1), ...args] : args.slice(1), {
        stdio: 'ignore',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      })
    run(['apt-get', 'update', '-qq'])
    run(['apt-get', 'install', '-y', '-qq', pkg])
  } catch (error) {
    return `${command} is missing and apt-get install ${pkg} failed: ${(error as Error).message.split('\n')[0]}`
  }
  return which(command) ? undefined : `${command} is still missing after installing ${pkg}`
}
