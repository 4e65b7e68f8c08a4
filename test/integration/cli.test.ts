import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createRedisStore } from '../../src/store/redis.js'
import type { LedgerEntry } from '../../src/store/types.js'
import { CLI, runCli, spawnGateway } from '../support/cli.js'
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
    for (const command of ['serve', 'check', 'healthcheck', 'payments', 'pay', 'help', 'version'])
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

describe('mpp-gateway payments', () => {
  const PATH_USD = '0x20c0000000000000000000000000000000000000'
  const paid = (over: Partial<LedgerEntry> & { challengeId: string; settledAt: string }): LedgerEntry => ({
    route: 'GET /paid',
    method: 'stripe',
    amount: '150',
    currency: 'usd',
    reference: `pi_${over.challengeId}`,
    upstreamStatus: 200,
    state: 'served',
    outcome: 'served',
    ...over,
  })

  /** A config on its own key prefix of the shared Redis, whose ledger holds `entries` (written in order). */
  async function ledgerConfig(entries: readonly LedgerEntry[]): Promise<string> {
    const keyPrefix = `mppgw-test-cli-payments:${process.pid}:${Math.random().toString(36).slice(2)}:`
    const store = createRedisStore({ url: SHARED_REDIS_URL, keyPrefix })
    for (const entry of entries) await store.record(entry)
    await store.close()
    return configFile(
      `${base}admin: false\nstore: { url: "${SHARED_REDIS_URL}", keyPrefix: "${keyPrefix}" }\nroutes:\n  - { match: "GET /paid", price: "1.50" }\n  - { match: "POST /t", price: "0.50" }\n`,
    )
  }

  // ch_b's payer left, then came back and was served: two entries, one row
  const ledger = [
    paid({ challengeId: 'ch_a', settledAt: '2026-11-30T10:00:00.250Z' }),
    paid({ challengeId: 'ch_b', settledAt: '2026-11-30T10:01:00.000Z', state: 'paid', outcome: 'client-gone' }),
    paid({
      challengeId: 'ch_c',
      settledAt: '2026-11-30T10:02:00.000Z',
      route: 'POST /t',
      method: 'tempo',
      amount: '500000',
      currency: PATH_USD,
      reference: '0xabc',
      upstreamStatus: 0,
      state: 'failed',
      outcome: 'upstream-timeout',
    }),
    paid({ challengeId: 'ch_b', settledAt: '2026-11-30T10:01:00.000Z' }),
  ]

  /** Runs the built CLI on a terminal (util-linux `script` gives it a pty), as an operator types it. */
  function onTerminal(args: string[]): Promise<{ code: number; stdout: string }> {
    const command = [process.execPath, CLI, ...args].map((arg) => `'${arg}'`).join(' ')
    return new Promise((resolveRun) => {
      execFile('script', ['-qec', command, '/dev/null'], { timeout: 15_000 }, (error, stdout) =>
        resolveRun({ code: error ? Number(error.code ?? 1) : 0, stdout: stdout.replaceAll('\r\n', '\n') }),
      )
    })
  }

  it('on a terminal: a table, one row per challenge with its entries, then the totals charged', async () => {
    const file = await ledgerConfig(ledger)
    expect(await onTerminal(['payments', '-c', file])).toEqual({
      code: 0,
      stdout: [
        'time                  route      method  amount        reference  state                      status  entries',
        '2026-11-30T10:00:00Z  GET /paid  stripe  1.50 usd      pi_ch_a    served                     200     1',
        '2026-11-30T10:01:00Z  GET /paid  stripe  1.50 usd      pi_ch_b    served                     200     2',
        '2026-11-30T10:02:00Z  POST /t    tempo   0.50 pathUSD  0xabc      failed (upstream-timeout)  -       1',
        '',
        'Charged (3 payments):',
        '  3.00 usd      stripe, 2 payments',
        '  0.50 pathUSD  tempo, 1 payment',
        '',
      ].join('\n'),
    })
    const json = await onTerminal(['payments', '-c', file, '--json', '--limit', '1'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({ challengeId: 'ch_c', price: '0.50 pathUSD' })
  })

  /** The challenge ids `payments` prints piped, one JSON line each, with these flags. */
  async function ids(file: string, ...flags: string[]): Promise<string[]> {
    const { code, stdout, stderr } = await runCli(['payments', '-c', file, ...flags])
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    return stdout === ''
      ? []
      : stdout
          .trimEnd()
          .split('\n')
          .map((line) => (JSON.parse(line) as LedgerEntry).challengeId)
  }

  it('piped: JSON lines (as with --json), narrowed by --route and --limit', async () => {
    const file = await ledgerConfig(ledger)
    const [piped, json, route, limited, unknown] = await Promise.all([
      runCli(['payments', '-c', file]),
      runCli(['payments', '-c', file, '--json']),
      ids(file, '--route', 'POST /t'),
      ids(file, '--route', 'GET /paid', '--limit', '1'),
      runCli(['payments', '-c', file, '--route', 'GET /gone']),
    ])
    expect(piped.stdout.split('\n').map((line) => line && (JSON.parse(line) as LedgerEntry).challengeId)).toEqual([
      'ch_a',
      'ch_b',
      'ch_c',
      '',
    ])
    expect(JSON.parse(piped.stdout.split('\n')[1]!)).toEqual({
      settledAt: '2026-11-30T10:01:00.000Z',
      route: 'GET /paid',
      method: 'stripe',
      amount: '150',
      currency: 'usd',
      price: '1.50 usd',
      reference: 'pi_ch_b',
      state: 'served',
      outcome: 'served',
      upstreamStatus: 200,
      entries: 2,
      challengeId: 'ch_b',
    })
    expect(json).toEqual(piped)
    expect(route).toEqual(['ch_c'])
    expect(limited).toEqual(['ch_b'])
    expect(unknown).toEqual({
      code: 0,
      stdout: '',
      stderr: `note: ${file} has no route "GET /gone"; showing what the ledger holds under it\n`,
    })
  })

  it('--since takes an ISO time or a duration back from now', async () => {
    const recent = paid({ challengeId: 'ch_now', settledAt: new Date(Date.now() - 600_000).toISOString() })
    const file = await ledgerConfig([...ledger, recent])
    const [iso, hour, minutes] = await Promise.all([
      ids(file, '--since', '2026-11-30T10:01:00Z'),
      ids(file, '--since', '1h'),
      ids(file, '--since', '5m'),
    ])
    expect(iso).toEqual(['ch_b', 'ch_c', 'ch_now'])
    expect(hour).toEqual(['ch_now'])
    expect(minutes).toEqual([])
  })

  it('exits 1 with the in-memory store or an unreachable Redis (no password shown), 2 on a bad flag', async () => {
    const routes = 'routes:\n  - { match: "GET /paid", price: "1.50" }\n'
    const memory = configFile(`${base}${routes}`)
    const port = await freePort()
    const down = configFile(`${base}store: { url: "redis://:hunter2@127.0.0.1:${port}", keyPrefix: "x:" }\n${routes}`)
    const [inMemory, unreachable, since, limit, unknownFlag] = await Promise.all([
      runCli(['payments', '-c', memory]),
      runCli(['payments', '-c', down]),
      runCli(['payments', '-c', memory, '--since', 'yesterday']),
      runCli(['payments', '-c', memory, '--limit', '0']),
      runCli(['payments', '--nope']),
    ])
    expect(inMemory).toEqual({
      code: 1,
      stdout: '',
      stderr: `${memory}: store.url: is not set, so the ledger is in the memory of the gateway process and no other process can read it; set store.url (Redis) to keep a ledger this command reads\n`,
    })
    expect(unreachable.code).toBe(1)
    expect(unreachable.stdout).toBe('')
    expect(unreachable.stderr).toMatch(
      new RegExp(
        `^redis redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port} \\(prefix "x:"\\): Redis ledger read failed: .+\\n$`,
      ),
    )
    expect(unreachable.stderr).not.toContain('hunter2')
    expect(since).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'mpp-gateway payments: --since yesterday: use an ISO time (2026-12-01T09:00:00Z) or a duration back from now (30m, 1h, 7d)\n',
    })
    expect(limit).toEqual({
      code: 2,
      stdout: '',
      stderr: 'mpp-gateway payments: --limit 0: use a whole number of payments, 1 or more\n',
    })
    expect(unknownFlag).toEqual({
      code: 2,
      stdout: '',
      stderr: 'mpp-gateway: Unknown option \'--nope\'\nRun "mpp-gateway help payments" for the usage.\n',
    })
  })
})
