import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../config/load.js'
import type { GatewayConfig } from '../config/types.js'
import { silentLogger } from '../log/logger.js'
import { type MppGateway, mppGateway } from './middleware.js'

// The memory store, and Stripe at an address nothing listens on: every answer below is given
// before any backend call (a Stripe charge 402 needs none).
const YAML = `
realm: api.example.com
secretKey: ${'k'.repeat(40)}
currency: usd
upstream: { url: "http://127.0.0.1:9" }
methods:
  stripe:
    secretKey: sk_test_unit_0123456789
    networkId: profile_unit
    apiBase: "http://127.0.0.1:9"
routes:
  - { match: "GET /paid/:id", price: "0.50" }
  - { match: "POST /upload", price: "0.50", maxBodyBytes: 8 }
  - { match: "GET /Exact", price: "0.50", caseSensitive: true }
  - { match: "GET /open/*", price: free }
`

function config(text = YAML): GatewayConfig {
  const loaded = parseConfig(text, 'gateway.config.yaml', {})
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'))
  return loaded.config
}

const opened: MppGateway[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((p) => p.close()))
})

function appWith(options: Parameters<typeof mppGateway>[0]) {
  const pay = mppGateway({ logger: silentLogger, ...options })
  opened.push(pay)
  const app = new Hono()
  app.use(pay)
  app.all('*', (c) => c.text(`app ${c.req.path}`))
  app.onError((_error, c) => c.text('the app failed', 500))
  return { app, pay, request: (path: string, init?: RequestInit) => app.request(`http://app.local${path}`, init) }
}

describe('mppGateway', () => {
  it('answers a priced route 402 with one Stripe challenge, and passes a free or unmatched path on', async () => {
    const { request } = appWith({ config: config() })
    const paid = await request('/paid/1')
    expect(paid.status).toBe(402)
    expect(paid.headers.get('www-authenticate')).toMatch(
      /^Payment id="[^"]+", realm="api\.example\.com", method="stripe"/,
    )
    expect(await paid.json()).toMatchObject({ type: 'https://paymentauth.org/problems/payment-required', status: 402 })
    expect(await (await request('/open/a')).text()).toBe('app /open/a')
    expect(await (await request('/elsewhere')).text()).toBe('app /elsewhere')
  })

  it('matches as the sidecar does: trailing "/", case folded unless caseSensitive, dot segments resolved', async () => {
    const { request } = appWith({ config: config() })
    expect((await request('/PAID/1/')).status).toBe(402)
    expect((await request('/open/../paid/1')).status).toBe(402)
    expect((await request('/Exact')).status).toBe(402)
    expect(await (await request('/exact')).text()).toBe('app /exact')
  })

  it('refuses a path with no one spelling (an encoded slash) with the sidecar 400', async () => {
    const { request } = appWith({ config: config() })
    const res = await request('/paid%2F1')
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({
      type: 'urn:mpp-gateway:problem:bad-path',
      title: 'Bad Request',
      status: 400,
      detail: 'The request path is not acceptable: encoded slash.',
    })
  })

  it("refuses a body over the route's maxBodyBytes with 413, declared or streamed", async () => {
    const { request } = appWith({ config: config() })
    const declared = await request('/upload', { method: 'POST', body: '123456789' })
    expect(declared.status).toBe(413)
    expect(await declared.json()).toMatchObject({
      type: 'urn:mpp-gateway:problem:body-too-large',
      detail: "The request body is larger than this route's limit of 8 bytes.",
    })
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('12345'))
        controller.enqueue(new TextEncoder().encode('6789'))
        controller.close()
      },
    })
    const streamed = await request('/upload', { method: 'POST', body: chunks, duplex: 'half' } as RequestInit)
    expect(streamed.status).toBe(413)
    expect((await request('/upload', { method: 'POST', body: '12345678' })).status).toBe(402)
  })

  it('a malformed credential is refused 402 with fresh challenges; the app is not reached', async () => {
    const { request } = appWith({ config: config() })
    const res = await request('/paid/1', { headers: { authorization: 'Payment not-base64url!' } })
    expect(res.status).toBe(402)
    expect(await res.json()).toMatchObject({ type: 'https://paymentauth.org/problems/malformed-credential' })
    expect(res.headers.get('www-authenticate')).toMatch(/^Payment /)
  })

  it('the sample config with no method enabled answers 503 no-payment-method', async () => {
    // a Stripe key copied from the examples switches the method off; the sample upstream may run so
    const sample = YAML.replace('sk_test_unit_0123456789', 'sk_test_replace_me').replace(
      'upstream: { url: "http://127.0.0.1:9" }',
      'upstream: { url: example }',
    )
    const { request } = appWith({ config: config(sample) })
    const res = await request('/paid/1')
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ type: 'urn:mpp-gateway:problem:no-payment-method' })
  })

  it('reads a YAML path; a config error rejects ready with file: key: problem, and fails every request', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mppgw-hono-'))
    const good = join(dir, 'good.yaml')
    await writeFile(good, YAML)
    const { request, pay } = appWith({ config: good })
    await pay.ready
    expect((await request('/paid/1')).status).toBe(402)

    const bad = join(dir, 'bad.yaml')
    await writeFile(bad, YAML.replace('price: "0.50" }', 'price: "0.50", metods: [] }'))
    const broken = appWith({ config: bad })
    await expect(broken.pay.ready).rejects.toThrow(`${bad}: routes[0].metods: unknown key (did you mean "methods"?)`)
    // fail closed: no route is known, so none is served
    expect((await broken.request('/open/a')).status).toBe(500)
  })

  it('close() releases the store; a request after it fails instead of going unpriced', async () => {
    const { request, pay } = appWith({ config: config() })
    await pay.ready
    await pay.close()
    expect((await request('/open/a')).status).toBe(500)
  })
})
