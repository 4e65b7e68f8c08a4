import http from 'node:http'
import { readFileSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnGateway } from '../support/cli.js'
import { writeTestConfig } from '../support/gateway.js'
import { request } from '../support/http.js'
import { SHARED_REDIS_URL } from '../support/redis-server.js'
import { startUpstream, type TestUpstream } from '../support/upstream.js'

let upstream: TestUpstream

beforeAll(async () => {
  upstream = await startUpstream()
  // A slow event stream: five events, 200 ms apart.
  upstream.handlers.set('/v1/events', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' })
    let sent = 0
    const timer = setInterval(() => {
      res.write(`data: ${sent}\n\n`)
      if (++sent === 5) {
        clearInterval(timer)
        res.end()
      }
    }, 200)
  })
})
afterAll(() => upstream.close())

const routes = [
  { match: 'GET /v1/models', price: 'free' },
  { match: 'GET /v1/events', price: 'free' },
]

describe('the CLI as a sidecar', () => {
  it('SIGTERM: readiness fails at once, an open stream finishes, new connections are refused, Redis is closed, exit 0', async () => {
    const file = writeTestConfig({
      upstreamUrl: upstream.url,
      storeUrl: SHARED_REDIS_URL,
      routes,
      extra: { shutdown: { grace: '500ms', timeout: '10s' } },
    })
    const gateway = await spawnGateway(file)
    expect((await request(`${gateway.url}/__gateway/readyz`)).status).toBe(200)

    const stream = new Promise<string>((resolve, reject) => {
      http.get(`${gateway.url}/v1/events`, (res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString()
        })
        res.on('end', () => resolve(body))
        res.on('error', reject)
      })
    })
    await new Promise((r) => setTimeout(r, 250))
    const exited = gateway.stop('SIGTERM')
    await new Promise((r) => setTimeout(r, 100))
    const readiness = await request(`${gateway.url}/__gateway/readyz`)
    expect(readiness.status).toBe(503)
    expect(JSON.parse(readiness.body).status).toBe('draining')

    expect(await stream).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n')
    await new Promise((r) => setTimeout(r, 600))
    await expect(request(`${gateway.url}/v1/models`)).rejects.toThrow(/ECONNREFUSED/)
    expect(await exited).toBe(0)
    const log = gateway.output.join('')
    expect(log).toContain('draining')
    expect(log).toContain('"msg":"stopped"')
  })

  it('SIGHUP reloads the config; a broken edit keeps the old one serving', async () => {
    // stripe is configured (never called here) so that a route can get a price
    const file = writeTestConfig({
      upstreamUrl: upstream.url,
      stripeUrl: 'http://127.0.0.1:9',
      routes,
      extra: { watch: false },
    })
    const gateway = await spawnGateway(file)
    try {
      const hashOf = async () => JSON.parse((await request(`${gateway.adminUrl}/__gateway/config`)).body).hash as string
      const first = await hashOf()
      writeFileSync(file, readFileSync(file, 'utf8').replace('price: free\n', 'price: "0.50"\n'))
      gateway.child.kill('SIGHUP')
      await expect.poll(hashOf, { timeout: 5_000 }).not.toBe(first)
      expect((await request(`${gateway.url}/v1/models`)).status).toBe(402)

      const second = await hashOf()
      writeFileSync(file, `${readFileSync(file, 'utf8')}\nbogus: true\n`)
      gateway.child.kill('SIGHUP')
      await expect.poll(() => gateway.output.join(''), { timeout: 5_000 }).toContain('bogus: unknown key')
      expect(await hashOf()).toBe(second)
      expect((await request(`${gateway.url}/v1/models`)).status).toBe(402)
    } finally {
      expect(await gateway.stop()).toBe(0)
    }
  })
})
