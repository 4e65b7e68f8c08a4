import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../support/redis-server.js'

/**
 * Runs the README's quick-start commands exactly as written (read from README.md between the
 * markers, so the two cannot drift) against a gateway started the way the README says, and checks
 * each answer against the lines the README shows under it. `…` stands for anything: within a line,
 * or alone on a line for any number of lines. Two things differ from a newcomer's shell: the
 * gateway listens on a free port (MPP_LISTEN, and 8402 in the commands is rewritten to it), and
 * `npm ci` is not run (it would reinstall the node_modules every test shares; the prepare script
 * it runs is checked instead).
 */
interface Step {
  readonly command: string
  readonly expected: readonly string[]
}

function readSteps(marker: string): Step[] {
  const readme = readFileSync('README.md', 'utf8')
  const block = new RegExp(`<!-- ${marker}:begin -->\\n\`\`\`console\\n([^]*?)\`\`\`\\n<!-- ${marker}:end -->`).exec(
    readme,
  )?.[1]
  if (!block) throw new Error(`README.md has no <!-- ${marker}:begin --> console block`)
  const steps: Array<{ command: string; expected: string[] }> = []
  for (const line of block.split('\n').slice(0, -1)) {
    if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: [] })
    else steps.at(-1)!.expected.push(line)
  }
  return steps
}

/** Each expected line against the output, in order; `…` is a wildcard. Returns the first mismatch, if any. */
function mismatch(expected: readonly string[], output: string): string | undefined {
  const lines = output.split('\n').map((l) => l.trimEnd())
  if (lines.at(-1) === '') lines.pop()
  const pattern = (line: string) =>
    new RegExp(
      `^${line
        .split('…')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    )
  let at = 0
  let skipping = false
  for (const line of expected) {
    if (line === '…') {
      skipping = true
      continue
    }
    const want = pattern(line)
    while (skipping && at < lines.length && !want.test(lines[at]!)) at++
    if (at >= lines.length || !want.test(lines[at]!))
      return `expected ${JSON.stringify(line)} at output line ${at + 1}, got ${JSON.stringify(lines[at] ?? '<end>')}`
    at++
    skipping = false
  }
  if (!skipping && at < lines.length) return `unexpected output from line ${at + 1}: ${JSON.stringify(lines[at])}`
  return undefined
}

const background: ChildProcess[] = []

afterEach(async () => {
  for (const child of background.splice(0)) await stop(child)
})

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
    // npm start → node: the whole process group, as the shell's job control would.
    process.kill(-child.pid!, 'SIGTERM')
  })
}

async function waitForHealth(port: number, child: ChildProcess, log: string[]): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode}:\n${log.join('')}`)
    const ok = await fetch(`http://127.0.0.1:${port}/__gateway/healthz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`the gateway did not answer on ${port}:\n${log.join('')}`)
}

async function runSteps(marker: string): Promise<string[]> {
  const port = await freePort()
  const env: Record<string, string | undefined> = {
    ...process.env,
    MPP_LISTEN: `127.0.0.1:${port}`,
    // The sample's admin port (9402) is one per machine; tests run gateways side by side.
    MPP_ADMIN_LISTEN: `127.0.0.1:${await freePort()}`,
    MPP_SANDBOX_STRIPE_PORT: String(await freePort()),
    MPP_SANDBOX_TEMPO_PORT: String(await freePort()),
  }
  // A fresh machine: none of the variables the sample config reads is set.
  for (const name of [
    'MPP_ADMIN_TOKEN',
    'UPSTREAM_URL',
    'STRIPE_SECRET_KEY',
    'STRIPE_NETWORK_ID',
    'TEMPO_RECIPIENT',
    'MPP_SECRET_KEY',
    'REDIS_URL',
    'TEMPO_PRIVATE_KEY',
  ])
    delete env[name]
  const ran: string[] = []
  for (const step of readSteps(marker)) {
    const command = step.command.replaceAll('localhost:8402', `localhost:${port}`)
    ran.push(step.command)
    if (command === 'npm ci') {
      expect(
        (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.prepare,
      ).toBe('node scripts/build-if-needed.mjs')
      continue
    }
    if (command === 'kill %1') {
      expect(background.length, 'kill %1 needs a job started with &').toBe(1)
      const child = background.pop()!
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
      process.kill(-child.pid!, 'SIGTERM')
      await exited
      continue
    }
    if (command.endsWith(' &')) {
      const child = spawn('sh', ['-c', command.slice(0, -2)], {
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      const log: string[] = []
      child.stdout!.on('data', (d: Buffer) => log.push(d.toString()))
      child.stderr!.on('data', (d: Buffer) => log.push(d.toString()))
      background.push(child)
      await waitForHealth(port, child, log)
      continue
    }
    const output = await new Promise<string>((resolve, reject) =>
      execFile('sh', ['-c', command], { env, timeout: 60_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${command}: ${error.message}\n${stderr}`)) : resolve(stdout),
      ),
    )
    expect(mismatch(step.expected, output), `${step.command}\n${output}`).toBeUndefined()
  }
  return ran
}

describe('the README quick start, run as written', () => {
  it('npm start: the free route, the 503 of an unconfigured method, check', { timeout: 180_000 }, async () => {
    expect(await runSteps('quickstart')).toEqual([
      'npm ci',
      'npm start &',
      'curl -s localhost:8402/v1/models',
      `curl -si -X POST localhost:8402/v1/chat/completions -d '{"model":"x"}' | head -1`,
      'npx mpp-gateway check',
      'kill %1',
    ])
  })

  it('npm start -- --sandbox: a 402, then pay with Stripe and with Tempo', { timeout: 180_000 }, async () => {
    const ran = await runSteps('sandbox')
    expect(ran.filter((command) => command.includes('pay --sandbox'))).toHaveLength(2)
  })
})

describe('the README matcher', () => {
  it('matches line by line, … within a line and alone for any lines', () => {
    expect(mismatch(['a', '…', 'c …'], 'a\nb\nb2\nc d\n')).toBeUndefined()
    expect(mismatch(['a'], 'a\nb\n')).toBe('unexpected output from line 2: "b"')
    expect(mismatch(['a', 'c'], 'a\nb\n')).toBe('expected "c" at output line 2, got "b"')
  })
})
