import { mkdtempSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, spawnGateway } from '../support/cli.js'
import { request } from '../support/http.js'
import { SHARED_REDIS_URL } from '../support/redis-server.js'

function configFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mppgw-cli-')), 'gateway.config.yaml')
  writeFileSync(file, text)
  return file
}

const base = `
realm: api.example.com
secretKey: "0123456789abcdef0123456789abcdef"
upstream: { url: "http://127.0.0.1:9" }
methods:
  stripe: { secretKey: "sk_test_x", networkId: "profile_x" }
`

describe('mpp-gateway check', () => {
  it('accepts the shipped example config and prints each route\'s price per method', async () => {
    const { code, stdout } = await runCli(['check', '--config', 'gateway.config.yaml'])
    expect(code).toBe(0)
    expect(stdout).toContain('POST /v1/chat/completions')
    expect(stdout).toContain('50 usd')
    expect(stdout).toContain('125 usd')
    expect(stdout).toMatch(/GET \/v1\/models\s+free/)
  })

  it('prints every error with file, key and problem, and exits 1', async () => {
    const file = configFile(`${base}
routes:
  - match: "GET /a"
    price: "abc"
  - match: "GET /b"
    prise: "1.00"
  - match: "GET /c"
    price: "0.10"
    methods: ["stripe"]
`)
    const { code, stdout } = await runCli(['check', '--config', file])
    expect(code).toBe(1)
    expect(stdout).toContain(`routes[0].price: "abc" is not a decimal amount`)
    expect(stdout).toContain('routes[1].prise: unknown key')
    expect(stdout).toContain(file)
  })

  it('a route that names a method that cannot charge its price is an error; a default route just skips it', async () => {
    const named = await runCli(['check', '--config', configFile(`${base}\nroutes:\n  - { match: "GET /c", price: "0.10", methods: ["stripe"] }\n`)])
    expect(named.code).toBe(1)
    expect(named.stdout).toMatch(/routes\[0\]\.methods: stripe cannot charge 0\.10 usd: .*minimum/)
    const defaulted = await runCli(['check', '--config', configFile(`${base}\nroutes:\n  - { match: "GET /c", price: "0.10" }\n`)])
    expect(defaulted.code).toBe(1)
    expect(defaulted.stdout).toContain('routes[0].price: no configured method can charge 0.10 usd')
  })
})

describe('mpp-gateway serve', () => {
  it('refuses to start on a bad config, naming the problem', async () => {
    const { code, stderr } = await runCli(['serve', '--config', configFile('realm: x\n')])
    expect(code).toBe(1)
    expect(stderr).toContain('upstream: is required')
  })

  it('without secretKey or store: warns loudly, still serves, and exits 0 on SIGTERM', async () => {
    const file = configFile(`
listen: "127.0.0.1:0"
realm: api.example.com
upstream: { url: "http://127.0.0.1:9" }
methods:
  stripe: { secretKey: "sk_test_x", networkId: "profile_x" }
routes:
  - { match: "GET /paid", price: "1.00" }
`)
    const gateway = await spawnGateway(file)
    expect((await request(`${gateway.url}/paid`)).status).toBe(402)
    const log = gateway.output.join('')
    expect(log).toContain('random challenge key')
    expect(log).toContain('in-memory, single instance')
    expect(await gateway.stop()).toBe(0)
  })

  it.each([
    ['the in-memory store', ''],
    ['a Redis store', `store: { url: "${SHARED_REDIS_URL}", keyPrefix: "mppgw-test-cli-port:" }`],
  ])('exits 1 with a clear error when the port is taken, with %s', async (_name, store) => {
    const taken = net.createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const { port } = taken.address() as net.AddressInfo
    try {
      const file = configFile(`listen: "127.0.0.1:${port}"\n${base}\n${store}\nroutes:\n  - { match: "GET /paid", price: "1.00" }\n`)
      const { code, stderr } = await runCli(['serve', '--config', file], {}, 10_000)
      expect(code).toBe(1)
      expect(stderr).toContain(`${file}: listen: 127.0.0.1:${port} is already in use by another process; stop it or choose another listen address`)
    } finally {
      taken.close()
    }
  })
})
