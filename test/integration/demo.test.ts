import { spawn } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** `npm run demo`, as a newcomer runs it: exit code and output. */
function runDemo(): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn('npm', ['run', '--silent', 'demo'], {
      cwd: ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolveRun({ code, signal, stdout, stderr })
    })
  })
}

describe('npm run demo', () => {
  it('pays for a route with stripe, tempo pull and tempo push, offline, and exits 0', { timeout: 40_000 }, async () => {
    const { code, signal, stdout, stderr } = await runDemo()
    expect({ code, signal }, `stdout:\n${stdout}\nstderr:\n${stderr}`).toEqual({ code: 0, signal: null })
    expect(stdout).toContain('402 Payment Required')
    expect(stdout).toContain('200 OK')
    // one challenge per method in the 402
    expect(stdout).toMatch(/WWW-Authenticate: Payment method="stripe"/)
    expect(stdout).toMatch(/WWW-Authenticate: Payment method="tempo"/)
    // the decoded receipts: a Stripe PaymentIntent, and Tempo transaction hashes (pull and push)
    const receipts = [...stdout.matchAll(/Payment-Receipt \(decoded\): (\{.*\})/g)].map(
      (m) => JSON.parse(m[1]!) as { method: string; status: string; reference: string },
    )
    expect(receipts.map((r) => r.method)).toEqual(['stripe', 'tempo', 'tempo'])
    for (const receipt of receipts) expect(receipt.status).toBe('success')
    expect(receipts[0]!.reference).toMatch(/^pi_/)
    expect(receipts[1]!.reference).toMatch(/^0x[0-9a-f]{64}$/i)
    expect(receipts[2]!.reference).toMatch(/^0x[0-9a-f]{64}$/i)
    expect(stdout).toMatch(/recipient .*: 0\.00 → 0\.50 pathUSD/)
    expect(stdout).toMatch(/recipient .*: 0\.50 → 1\.00 pathUSD/)
    // a newcomer may paste this output anywhere: it shows no SPT and no credential
    expect(stdout).not.toMatch(/spt_[A-Za-z0-9]/)
    expect(stdout).not.toMatch(/Payment eyJ/)
  })
})
