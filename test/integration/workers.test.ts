import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import net, { type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { type GatewayProcess, runCli, spawnGateway } from '../support/cli.js'
import { request } from '../support/http.js'
import { SHARED_REDIS_URL } from '../support/redis-server.js'
import { startUpstream, type TestUpstream } from '../support/upstream.js'

let upstream: TestUpstream
beforeAll(async () => {
  upstream = await startUpstream()
})
afterAll(async () => {
  await upstream?.close()
})

function configFile(extra: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mppgw-workers-')), 'gateway.config.yaml')
  writeFileSync(
    file,
    stringify({
      listen: '127.0.0.1:0',
      realm: 'api.example.com',
      secretKey: 'test-secret-key-0123456789-abcdefghijklmnop',
      upstream: { url: upstream.url },
      routes: [{ match: 'GET /v1/models', price: 'free' }],
      shutdown: { grace: '0s', timeout: '5s' },
      admin: { listen: '127.0.0.1:0' },
      ...extra,
    }),
  )
  return file
}

/** The JSON log lines the gateway process tree has written so far. */
const lines = (gateway: GatewayProcess) =>
  gateway.output
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)

/** Waits for log lines (not for time): `until` is checked on every chunk of output. */
function waitForLines(gateway: GatewayProcess, until: (all: Array<Record<string, unknown>>) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!until(lines(gateway))) return
      gateway.child.stdout!.off('data', check)
      resolve()
    }
    gateway.child.stdout!.on('data', check)
    gateway.child.once('exit', () => reject(new Error(`gateway exited:\n${gateway.output.join('')}`)))
    // output already received counts too
    setImmediate(check)
  })
}

describe('workers: 2', () => {
  it('both workers serve one port, SIGHUP reloads each, and SIGTERM drains all and exits 0', async () => {
    const gateway = await spawnGateway(
      configFile({
        workers: 2,
        store: { url: SHARED_REDIS_URL, keyPrefix: `test:workers:${process.pid}:${Date.now()}:` },
      }),
    )
    try {
      await waitForLines(gateway, (all) => all.filter((l) => l.msg === 'gateway listening').length === 2)
      const listening = lines(gateway).filter((l) => l.msg === 'gateway listening')
      expect(new Set(listening.map((l) => l.url)).size).toBe(1)
      // the admin port is shared the same way: one address, answered by whichever worker takes the connection
      expect(new Set(listening.map((l) => l.admin)).size).toBe(1)
      expect((await request(`${gateway.adminUrl}/__gateway/metrics`)).body).toContain('mpp_http_requests_total')
      expect(lines(gateway).find((l) => l.msg === 'workers started')).toMatchObject({ workers: 2 })

      // The primary hands each new connection to the next worker; every request here opens one.
      for (let i = 0; i < 4; i++) expect((await request(`${gateway.url}/v1/models`)).status).toBe(200)
      await waitForLines(gateway, (all) => all.filter((l) => l.msg === 'request').length === 4)
      expect(
        new Set(
          lines(gateway)
            .filter((l) => l.msg === 'request')
            .map((l) => l.worker),
        ),
      ).toEqual(new Set([1, 2]))

      gateway.child.kill('SIGHUP')
      await waitForLines(gateway, (all) => all.filter((l) => l.msg === 'SIGHUP: reloading the config').length === 2)

      expect(await gateway.stop('SIGTERM')).toBe(0)
      expect(
        lines(gateway)
          .filter((l) => l.msg === 'stopped')
          .map((l) => l.worker)
          .sort(),
      ).toEqual([1, 2])
    } finally {
      await gateway.stop('SIGKILL')
    }
  })

  it('stops, rather than forking again and again, when workers bind the admin port but not the public one', async () => {
    const taken = net.createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const { port } = taken.address() as AddressInfo
    try {
      const file = configFile({
        workers: 2,
        listen: `127.0.0.1:${port}`,
        store: { url: SHARED_REDIS_URL, keyPrefix: `test:workers:${process.pid}:${Date.now()}:` },
      })
      const { code, stdout } = await runCli(['serve', '--config', file])
      expect(code).toBe(1)
      expect(stdout).toContain('worker failed to start; stopping the gateway')
      expect(stdout).not.toContain('worker died; starting another')
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()))
    }
  })

  it('is refused without the Redis store, naming the key and why', async () => {
    const { code, stderr } = await runCli(['serve', '--config', configFile({ workers: 2 })])
    expect(code).toBe(1)
    expect(stderr).toContain('workers: 2 workers need store.url (Redis)')
  })
})
