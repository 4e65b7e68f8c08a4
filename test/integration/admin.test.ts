import net from 'node:net'
import { networkInterfaces } from 'node:os'
import { readFileSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../support/gateway.js'
import { request } from '../support/http.js'
import { type Stack, startStack } from '../support/stack.js'

const TOKEN = 'admin-token-0123456789abcdef0123456789'
const ADMIN_PATHS = ['/__gateway/metrics', '/__gateway/config']
const FREE = [{ match: 'GET /v1/models', price: 'free' }]

describe('the public port', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ extra: { admin: { listen: '127.0.0.1:0', token: TOKEN } } })
  })
  afterAll(() => stack.close())

  it('no longer serves metrics or config: 404 like any unknown /__gateway/ path, with or without the token', async () => {
    for (const path of ADMIN_PATHS) {
      for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }] as Array<Record<string, string>>) {
        for (const method of ['GET', 'HEAD']) {
          const res = await request(`${stack.gw.url}${path}`, { method, headers })
          expect(res.status, `${method} ${path}`).toBe(404)
          if (method === 'GET')
            expect(JSON.parse(res.body)).toMatchObject({ type: 'urn:mpp-gateway:problem:not-found', status: 404 })
          expect(res.body).not.toContain('mpp_')
        }
      }
    }
    expect(stack.upstream.requests).toEqual([])
  })

  it('keeps the probes', async () => {
    expect((await request(`${stack.gw.url}/__gateway/healthz`)).status).toBe(200)
    expect(JSON.parse((await request(`${stack.gw.url}/__gateway/readyz`)).body)).toMatchObject({ status: 'ready' })
  })
})

describe('the admin listener with a token', () => {
  let stack: Stack
  let gw: TestGateway
  beforeAll(async () => {
    stack = await startStack({ extra: { admin: { listen: '127.0.0.1:0', token: TOKEN }, watch: false } })
    gw = stack.gw
  })
  afterAll(() => stack.close())

  it('answers 401 with WWW-Authenticate: Bearer without the token, with a wrong one, or with another scheme', async () => {
    const wrong: Array<Record<string, string | string[]>> = [
      {},
      { authorization: 'Bearer ' },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}X` },
      { authorization: `Bearer ${TOKEN}${TOKEN}` },
      { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
      { authorization: [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`] },
    ]
    for (const path of [...ADMIN_PATHS, '/__gateway/nope', '/']) {
      for (const headers of wrong) {
        const res = await request(`${gw.adminUrl}${path}`, { headers })
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(401)
        expect(res.headers['www-authenticate']).toBe('Bearer realm="mpp-gateway admin"')
        expect(JSON.parse(res.body)).toEqual({
          type: 'urn:mpp-gateway:problem:admin-unauthorized',
          title: 'Unauthorized',
          status: 401,
          detail: 'The admin endpoints need Authorization: Bearer <admin.token>.',
        })
      }
    }
  })

  it('serves metrics and config with the token, and never shows the token', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` }
    await request(`${gw.url}/v1/models`)
    const metrics = await request(`${gw.adminUrl}/__gateway/metrics`, { headers: auth })
    expect(metrics.status).toBe(200)
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/)
    expect(metrics.body).toMatch(/^mpp_http_requests_total\{route="GET \/v1\/models",status="200"\} [1-9]/m)
    const config = await request(`${gw.adminUrl}/__gateway/config`, { headers: auth })
    expect(config.status).toBe(200)
    expect(JSON.parse(config.body).routes[0]).toMatchObject({ match: 'GET /v1/models', price: 'free' })
    expect(config.body).not.toContain(TOKEN)
    expect((await request(`${gw.adminUrl}/__gateway/metrics`, { method: 'HEAD', headers: auth })).status).toBe(200)
    expect((await request(`${gw.adminUrl}/__gateway/nope`, { headers: auth })).status).toBe(404)
    const post = await request(`${gw.adminUrl}/__gateway/metrics`, { method: 'POST', headers: auth })
    expect(post.status).toBe(405)
    expect(post.headers.allow).toBe('GET, HEAD')
    // the admin port forwards nothing, and the token is in no log line
    expect(stack.upstream.requests.map((r) => r.url)).toEqual(['/v1/models'])
    expect(gw.logs.join('\n')).not.toContain(TOKEN)
  })

  it('a reload rotates the token: the old one is refused at once', async () => {
    const next = 'rotated-admin-token-0123456789abcdef'
    writeFileSync(gw.configFile, readFileSync(gw.configFile, 'utf8').replace(TOKEN, next))
    expect(await gw.gateway.reload()).toMatchObject({ ok: true, changed: true })
    expect(
      (await request(`${gw.adminUrl}/__gateway/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(401)
    expect(
      (await request(`${gw.adminUrl}/__gateway/metrics`, { headers: { authorization: `Bearer ${next}` } })).status,
    ).toBe(200)
    expect(gw.logs.join('\n')).not.toContain(next)
  })
})

describe('the admin listener without a token', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ extra: { admin: { listen: '127.0.0.1:0', token: '' } } })
  })
  afterAll(() => stack.close())

  it('binds to loopback only and answers requests for a loopback host', async () => {
    const address = stack.gw.gateway.adminUrl!
    expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const port = Number(new URL(address).port)
    expect((await request(`${address}/__gateway/metrics`)).status).toBe(200)
    expect((await request(`${address}/__gateway/config`, { headers: { host: `localhost:${port}` } })).status).toBe(200)
    // this machine's other addresses do not reach it
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)
    if (external) expect(await connects(external.address, port)).toBe(false)
    expect(await connects('127.0.0.1', port)).toBe(true)
  })

  it('refuses a request naming another host (DNS rebinding from a browser)', async () => {
    const res = await request(`${stack.gw.adminUrl}/__gateway/metrics`, { headers: { host: 'evil.example:9402' } })
    expect(res.status).toBe(403)
    expect(JSON.parse(res.body)).toMatchObject({ type: 'urn:mpp-gateway:problem:admin-host', status: 403 })
    expect(res.body).not.toContain('mpp_')
  })

  it('is a config error on an address other machines reach, naming the file and key', async () => {
    const refused = startTestGateway({
      upstreamUrl: stack.upstream.url,
      routes: FREE,
      extra: { admin: { listen: '0.0.0.0:0' } },
    })
    await expect(refused).rejects.toThrow(
      /^\/\S+\/gateway\.config\.yaml: admin\.listen: "0\.0\.0\.0" is reachable from other machines: set admin\.token, or listen on 127\.0\.0\.1$/,
    )
  })
})

describe('the admin listener and the gateway lifecycle', () => {
  it('answers during drain, closes on close; admin: false starts none', async () => {
    const stack = await startStack({
      extra: { admin: { listen: '127.0.0.1:0' }, shutdown: { grace: '300ms', timeout: '2s' } },
    })
    const { gw } = stack
    const port = Number(new URL(gw.adminUrl).port)
    const draining = gw.gateway.drain()
    expect((await request(`${gw.url}/__gateway/readyz`)).status).toBe(503)
    expect((await request(`${gw.adminUrl}/__gateway/metrics`)).status).toBe(200)
    await draining
    expect(await connects('127.0.0.1', port)).toBe(false)
    await stack.close()

    const off = await startTestGateway({ upstreamUrl: stack.upstream.url, routes: FREE, extra: { admin: false } })
    try {
      expect(off.gateway.adminUrl).toBeUndefined()
      expect((await request(`${off.url}/__gateway/metrics`)).status).toBe(404)
    } finally {
      await off.close()
    }
  })
})

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port })
    socket.setTimeout(2_000, () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
