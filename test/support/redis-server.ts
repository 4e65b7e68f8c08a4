import { type ChildProcess, spawn } from 'node:child_process'
import net from 'node:net'
import { Redis } from 'ioredis'

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** SIGKILL: gone at once, and with `--save ""`, everything it held is lost */
  stop(): Promise<void>
  /** SIGSTOP: connections stay open, nothing answers (a stalled Redis) */
  pause(): void
  /** SIGCONT after `pause`: the commands that waited run now */
  resume(): void
  /** SIGKILL, then a new redis-server on the same port; with `--save ""` it comes back empty */
  restart(): Promise<void>
}

/**
 * A free TCP port on 127.0.0.1, below the ephemeral range (Linux: 32768 and up). A port the OS
 * picked for `listen(0)` and released could be handed out again to the next `listen(0)` (a
 * gateway's bundled example API, say) before the test uses it; ports picked here never are.
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    if (await bindable(port)) return port
  }
  throw new Error('no free port found between 20000 and 32000')
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** A private redis-server on a free port, for tests that stop Redis or need one of their own. */
export async function startRedisServer(options: { args?: readonly string[] } = {}): Promise<RedisServer> {
  const port = await freePort()
  const url = `redis://127.0.0.1:${port}`
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    ...(options.args ?? []),
  ]
  let child: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' })
  await waitForRedis(url)
  const kill = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => resolve())
      // a stopped process still dies of SIGKILL
      child.kill('SIGKILL')
    })
  return {
    port,
    url,
    stop: kill,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    restart: async () => {
      await kill()
      child = spawn('redis-server', args, { stdio: 'ignore' })
      await waitForRedis(url)
    },
  }
}

async function waitForRedis(url: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.ping()
      client.disconnect()
      return
    } catch {
      client.disconnect()
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  throw new Error(`redis-server did not start at ${url}`)
}

/** The shared Redis every session has on 6379 (`.ci/run` makes sure it runs). */
export const SHARED_REDIS_URL = process.env.MPP_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
