import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import net from 'node:net'

/**
 * Before the suite: compile dist/ (tests run the real CLI as child processes) and make sure a
 * Redis answers on 6379, starting a private redis-server when none does, so `npm test` works
 * on a fresh machine that has the redis-server binary.
 */
let redis: ChildProcess | undefined

export async function setup(): Promise<void> {
  // MPP_TEST_NO_BUILD=1 skips the compile when iterating on tests that do not spawn the CLI.
  if (!process.env.MPP_TEST_NO_BUILD) execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' })
  if (await answers(6379)) return
  try {
    redis = spawn('redis-server', ['--port', '6379', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    })
  } catch {
    redis = undefined
  }
  const deadline = Date.now() + 5000
  while (Date.now() < deadline) {
    if (await answers(6379)) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(
    'No Redis on 127.0.0.1:6379 and redis-server could not be started: install it (apt-get install redis-server) or run `bash .ci/run`.',
  )
}

export async function teardown(): Promise<void> {
  redis?.kill('SIGTERM')
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.setTimeout(1000)
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (data) => {
      socket.destroy()
      resolve(data.toString().startsWith('+PONG'))
    })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}
