import { describe, expect, it } from 'vitest'
import { adminSchema, adminTokenProblem, isLoopbackHost } from './admin.js'
import { checkSchema } from './issues.js'
import { parseConfig, type Env } from './load.js'

const FILE = 'gateway.config.yaml'
const TOKEN = `${'a'.repeat(16)}0123456789abcdef`
const base = (extra: string) =>
  `realm: api.example.com\nupstream: { url: "http://127.0.0.1:3000" }\n${extra}\nroutes:\n  - match: "GET /v1/models"\n    price: free\n`
const load = (extra: string, env: Env = {}) => parseConfig(base(extra), FILE, env, FILE)
const errorsOf = (extra: string, env: Env = {}) => {
  const loaded = load(extra, env)
  if (loaded.ok) throw new Error('expected errors, the config loaded')
  return loaded.errors
}

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '[::1]'])(
    '%s is loopback',
    (host) => {
      expect(isLoopbackHost(host)).toBe(true)
    },
  )
  it.each([
    '0.0.0.0',
    '10.0.0.5',
    '128.0.0.1',
    '::',
    '::2',
    'fe80::1',
    '::ffff:10.0.0.1',
    'localhost.example.com',
    'admin.internal',
    '1::1',
  ])('%s is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false)
  })
})

describe('adminTokenProblem', () => {
  it('accepts a long printable token, refuses short, spaced or non-ASCII ones without quoting them', () => {
    expect(adminTokenProblem(TOKEN)).toBeUndefined()
    expect(adminTokenProblem('short-secret')).toBe('is too short: at least 16 characters (openssl rand -hex 32)')
    expect(adminTokenProblem(`${TOKEN}\n`)).toBe(
      'must not contain whitespace (a trailing newline from a file or Secret?)',
    )
    expect(adminTokenProblem(`${TOKEN}é`)).toBe('must be printable ASCII, as it is sent in an Authorization header')
  })
})

describe('parseConfig: admin', () => {
  it('defaults to 127.0.0.1:9402 without a token when the block is absent', () => {
    const loaded = load('')
    expect(loaded.ok && loaded.config.admin).toEqual({ host: '127.0.0.1', port: 9402 })
  })

  it('reads listen and a token from the environment; admin: false turns it off', () => {
    const loaded = load('admin: { listen: "0.0.0.0:9500", token: "${MPP_ADMIN_TOKEN:-}" }', { MPP_ADMIN_TOKEN: TOKEN })
    expect(loaded.ok && loaded.config.admin).toEqual({ host: '0.0.0.0', port: 9500, token: TOKEN })
    const off = load('admin: false')
    expect(off.ok && off.config.admin).toBeUndefined()
    const emptyToken = load('admin: { token: "${MPP_ADMIN_TOKEN:-}" }')
    expect(emptyToken.ok && emptyToken.config.admin).toEqual({ host: '127.0.0.1', port: 9402 })
  })

  it('refuses a listener other machines can reach without a token, naming the file and key', () => {
    expect(errorsOf('admin: { listen: "0.0.0.0:9402" }')).toEqual([
      `${FILE}: admin.listen: "0.0.0.0" is reachable from other machines: set admin.token, or listen on 127.0.0.1`,
    ])
    expect(errorsOf('admin: { listen: ":9402", token: "${MPP_ADMIN_TOKEN:-}" }')).toEqual([
      `${FILE}: admin.listen: "0.0.0.0" is reachable from other machines: set admin.token, or listen on 127.0.0.1`,
    ])
    expect(errorsOf('admin: { listen: "10.1.2.3:9402", token: "${MPP_ADMIN_TOKEN}" }')).toEqual([
      `${FILE}: admin.listen: "10.1.2.3" is reachable from other machines: set admin.token (admin.token is empty: environment variable MPP_ADMIN_TOKEN is not set), or listen on 127.0.0.1`,
    ])
  })

  it('names every other bad admin value, never quoting the token', () => {
    const shortToken = 'hunter2-secret'
    const errors = errorsOf(`admin: { listen: "0.0.0.0:9402", token: "${shortToken}" }`)
    expect(errors).toEqual([`${FILE}: admin.token: is too short: at least 16 characters (openssl rand -hex 32)`])
    expect(errors.join('\n')).not.toContain(shortToken)
    expect(errorsOf('admin: { listen: 9402 }')).toEqual([
      `${FILE}: admin.listen: must be a quoted string like "127.0.0.1:9402" (got a number)`,
    ])
    expect(errorsOf('admin: { listen: "127.0.0.1" }')).toEqual([
      `${FILE}: admin.listen: "127.0.0.1" must be "host:port", ":port" or "[ipv6]:port"`,
    ])
    expect(errorsOf('listen: ":9402"\nadmin: { listen: "127.0.0.1:9402" }')).toEqual([
      `${FILE}: admin.listen: port 9402 is the public port (listen); the admin port needs its own`,
    ])
    expect(load('listen: "127.0.0.1:0"\nadmin: { listen: "127.0.0.1:0" }').ok).toBe(true)
    expect(load('listen: "127.0.0.2:9402"\nadmin: { listen: "127.0.0.1:9402" }').ok).toBe(true)
    expect(errorsOf('admin: { listn: "127.0.0.1:9402" }')).toEqual([
      `${FILE}: admin.listn: unknown key (did you mean "listen"?)`,
    ])
    expect(errorsOf('admin: "127.0.0.1:9402"')).toEqual([
      `${FILE}: admin: must be a mapping like { listen: "127.0.0.1:9402", token: "\${MPP_ADMIN_TOKEN}" }, or false (got a string)`,
    ])
  })
})

describe('adminSchema', () => {
  it('checks a block against the public listen and names the unset token variables', () => {
    const publicListen = { host: '0.0.0.0', port: 8402 }
    expect(checkSchema(adminSchema(publicListen), new Map([['listen', '127.0.0.1:8402']]), 'admin')).toEqual({
      ok: false,
      issues: [
        {
          path: 'admin.listen',
          problem: 'port 8402 is the public port (listen); the admin port needs its own',
          aboutValue: true,
        },
      ],
    })
    expect(checkSchema(adminSchema(publicListen, ['A', 'B']), new Map([['listen', ':9500']]), 'admin')).toEqual({
      ok: false,
      issues: [
        {
          path: 'admin.listen',
          problem:
            '"0.0.0.0" is reachable from other machines: set admin.token (admin.token is empty: environment variables A, B are not set), or listen on 127.0.0.1',
          aboutValue: false,
        },
      ],
    })
    expect(checkSchema(adminSchema(undefined), undefined, 'admin')).toEqual({
      ok: true,
      data: { host: '127.0.0.1', port: 9402 },
    })
    expect(checkSchema(adminSchema(undefined), false, 'admin')).toEqual({ ok: true, data: undefined })
  })
})

describe('parseConfig: cors.credentials', () => {
  it('is off unless set, allowed with a list of origins, and an error with "*"', () => {
    const list = load('cors: { origins: ["https://app.example.com"] }')
    expect(list.ok && list.config.cors).toEqual({ origins: ['https://app.example.com'], maxAgeSeconds: 600 })
    const withCredentials = load('cors: { origins: ["https://app.example.com"], credentials: true }')
    expect(withCredentials.ok && withCredentials.config.cors).toEqual({
      origins: ['https://app.example.com'],
      maxAgeSeconds: 600,
      credentials: true,
    })
    expect(errorsOf('cors: { origins: ["https://app.example.com", "*"], credentials: true }')).toEqual([
      `${FILE}: cors.credentials: cannot be true with origins "*": any site could then call the API with its visitors' cookies; list the origins`,
    ])
    expect(errorsOf('cors: { origins: ["*"], credentials: "yes" }')).toEqual([
      `${FILE}: cors.credentials: must be true or false (got a string)`,
    ])
  })
})
