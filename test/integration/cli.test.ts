import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, spawnGateway } from '../support/cli.js'
import { request } from '../support/http.js'
import { freePort, SHARED_REDIS_URL } from '../support/redis-server.js'

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
  it("accepts the shipped example config and prints each route's price per method in major units", async () => {
    const env = {
      STRIPE_SECRET_KEY: 'sk_test_abc',
      STRIPE_NETWORK_ID: 'profile_abc',
      TEMPO_RECIPIENT: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
    }
    const { code, stdout } = await runCli(['check', '--config', 'gateway.config.yaml'], env)
    expect(code).toBe(0)
    expect(stdout).toMatch(/POST \/v1\/chat\/completions +0\.50 usd +stripe: 0\.50 usd; tempo: 0\.50 pathUSD\n/)
    expect(stdout).toMatch(/GET \/v1\/reports\/:id +1\.25 usd +stripe: 1\.25 usd\n/)
    expect(stdout).toMatch(/GET \/v1\/models\s+free/)
  })

  it('refuses a challenge key copied from the examples, and an unset one with a shared store', async () => {
    const copied = await runCli([
      'check',
      '-c',
      configFile(
        `${base.replace('0123456789abcdef0123456789abcdef', 'replace-with-openssl-rand-base64-32-output')}routes: []\n`,
      ),
    ])
    expect(copied.code).toBe(1)
    expect(copied.stdout).toContain(
      'secretKey: is a placeholder copied from the examples; set a random key (openssl rand -base64 32)',
    )
    expect(copied.stdout).not.toContain('replace-with-openssl')
    const shared = configFile(
      `${base.replace(/secretKey: "0123.*\n/, 'secretKey: "${MPP_SECRET_KEY:-}"\n')}store: { url: "redis://127.0.0.1:6379" }\nroutes: []\n`,
    )
    const unset = await runCli(['check', '-c', shared], { MPP_SECRET_KEY: '' })
    expect(unset.code).toBe(1)
    expect(unset.stdout).toContain(
      `${shared}: secretKey: is required with store.url: replicas sharing a store must share the challenge key`,
    )
    const served = await runCli(['serve', '-c', shared], { MPP_SECRET_KEY: '' })
    expect(served.code).toBe(1)
    expect(served.stderr).toContain(`${shared}: secretKey: is required with store.url`)
  })

  it("disables stripe with a warning on the examples' placeholder key and network id", async () => {
    const file = configFile(
      `${base.replace('sk_test_x', 'sk_test_replace_me').replace('profile_x', 'profile_replace_me')}routes:\n  - { match: "GET /free", price: free }\n`,
    )
    const { code, stdout } = await runCli(['check', '-c', file])
    expect(code).toBe(0)
    expect(stdout).toContain(
      `warning: ${file}: methods.stripe.secretKey and methods.stripe.networkId: are placeholders from the examples, so the stripe method is disabled (replace it with your own Stripe value)`,
    )
    expect(stdout).not.toContain('sk_test_replace_me')
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
    const named = await runCli([
      'check',
      '--config',
      configFile(`${base}\nroutes:\n  - { match: "GET /c", price: "0.10", methods: ["stripe"] }\n`),
    ])
    expect(named.code).toBe(1)
    expect(named.stdout).toMatch(/routes\[0\]\.methods: stripe cannot charge 0\.10 usd: .*minimum/)
    const defaulted = await runCli([
      'check',
      '--config',
      configFile(`${base}\nroutes:\n  - { match: "GET /c", price: "0.10" }\n`),
    ])
    expect(defaulted.code).toBe(1)
    expect(defaulted.stdout).toContain('routes[0].price: no configured method can charge 0.10 usd')
  })
  it('refuses a priced route that an earlier free route takes requests of, naming both routes', async () => {
    const file = configFile(
      `${base}\nroutes:\n  - { match: "GET /v1/*", price: free }\n  - { match: "GET /v1/joke", price: "2.00" }\n`,
    )
    const { code, stdout } = await runCli(['check', '--config', file])
    expect(code).toBe(1)
    expect(stdout).toContain(
      `${file}: routes[1].match: "GET /v1/joke" (price 2.00) is shadowed by routes[0].match "GET /v1/*" (price free), which comes first and takes requests such as GET /v1/joke; list the more specific route first, or set routes[0].shadows: ok if that is intended`,
    )
    const intended = configFile(
      `${base}\nroutes:\n  - { match: "GET /v1/*", price: free, shadows: ok }\n  - { match: "GET /v1/joke", price: "2.00" }\n`,
    )
    expect((await runCli(['check', '--config', intended])).code).toBe(0)
  })
})

describe('mpp-gateway: version, help and usage errors', () => {
  it('prints the version from package.json', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
    for (const flag of ['--version', '-v', 'version']) {
      expect(await runCli([flag])).toEqual({ code: 0, stdout: `mpp-gateway ${version}\n`, stderr: '' })
    }
  })

  it('help lists every command and the exit codes; help COMMAND lists every flag, short and long', async () => {
    const overview = await runCli(['help'])
    expect(overview.code).toBe(0)
    for (const command of ['serve', 'check', 'healthcheck', 'pay', 'help', 'version'])
      expect(overview.stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'))
    expect(overview.stdout).toContain('  2  usage error (an unknown command or flag)\n')
    expect((await runCli(['--help'])).stdout).toBe(overview.stdout)
    const serve = await runCli(['help', 'serve'])
    expect(serve.code).toBe(0)
    expect(serve.stdout).toContain('  -c, --config FILE  the config file (default: gateway.config.yaml)\n')
    expect(serve.stdout).toContain('  -h, --help         show this help\n')
    expect((await runCli(['check', '-h'])).stdout).toContain('Usage: mpp-gateway check [-c FILE]\n')
  })

  it('exits 2 on a usage error, saying what was wrong and where the usage is', async () => {
    expect(await runCli(['bogus'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'mpp-gateway: unknown command "bogus"\nRun "mpp-gateway help" for the usage.\n',
    })
    expect(await runCli(['check', '--nope'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'mpp-gateway: Unknown option \'--nope\'\nRun "mpp-gateway help check" for the usage.\n',
    })
    expect((await runCli(['help', 'bogus'])).code).toBe(2)
    expect((await runCli(['check', 'extra'])).stderr).toContain('unexpected argument "extra"')
    expect(await runCli(['pay'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'mpp-gateway: missing the URL to pay for\nRun "mpp-gateway help pay" for the usage.\n',
    })
    expect(await runCli(['pay', '-m', 'paypal', 'http://127.0.0.1:9/x'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'mpp-gateway pay: -m paypal: use stripe or tempo\n',
    })
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
admin: { listen: "127.0.0.1:0" }
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
      const file = configFile(
        `listen: "127.0.0.1:${port}"\n${base}\n${store}\nroutes:\n  - { match: "GET /paid", price: "1.00" }\n`,
      )
      const { code, stderr } = await runCli(['serve', '--config', file], {}, 10_000)
      expect(code).toBe(1)
      expect(stderr).toContain(
        `${file}: listen: 127.0.0.1:${port} is already in use by another process; stop it or choose another listen address`,
      )
    } finally {
      taken.close()
    }
  })

  it("healthcheck probes healthz at the config's listen: 0 while it runs, 1 once it is gone", async () => {
    const port = await freePort()
    const file = configFile(`listen: "0.0.0.0:${port}"\n${base}\nroutes:\n  - { match: "GET /free", price: free }\n`)
    const gateway = await spawnGateway(file)
    expect(await runCli(['healthcheck', '-c', file])).toEqual({
      code: 0,
      stdout: `http://127.0.0.1:${port}/__gateway/healthz: 200\n`,
      stderr: '',
    })
    expect(await gateway.stop()).toBe(0)
    expect(await runCli(['healthcheck', '--config', file])).toEqual({
      code: 1,
      stdout: `http://127.0.0.1:${port}/__gateway/healthz: ECONNREFUSED\n`,
      stderr: '',
    })
  })

  it("a 402 never carries the examples' placeholder Stripe values: the stripe method is off, tempo still offered", async () => {
    const file = configFile(`
listen: "127.0.0.1:0"
realm: api.example.com
secretKey: "0123456789abcdef0123456789abcdef"
upstream: { url: "http://127.0.0.1:9" }
methods:
  stripe: { secretKey: "\${STRIPE_SECRET_KEY:-sk_test_replace_me}", networkId: "\${STRIPE_NETWORK_ID:-profile_replace_me}" }
  tempo: { recipient: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", rpcUrl: "http://127.0.0.1:9" }
routes:
  - { match: "GET /paid", price: "1.00" }
`)
    const gateway = await spawnGateway(file, { STRIPE_SECRET_KEY: '', STRIPE_NETWORK_ID: '' })
    try {
      const response = await request(`${gateway.url}/paid`)
      expect(response.status).toBe(402)
      const challenges = String(response.headers['www-authenticate'])
      expect(challenges).toContain('method="tempo"')
      expect(challenges).not.toContain('method="stripe"')
      expect(gateway.output.join('')).toContain(
        'are placeholders from the examples, so the stripe method is disabled (set STRIPE_SECRET_KEY, STRIPE_NETWORK_ID to your own Stripe values)',
      )
    } finally {
      await gateway.stop()
    }
  })
})
