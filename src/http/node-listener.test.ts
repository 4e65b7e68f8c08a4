import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../../test/support/gateway.js'
import { startUpstream, type TestUpstream } from '../../test/support/upstream.js'

/** Sends `head` as written (no client rewrites the target or adds a Host) and reads until the server closes. */
function exchange(url: string, head: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(`${head}\r\nConnection: close\r\n\r\n`))
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const [statusLine = '', body = ''] = [
        text.slice(0, text.indexOf('\r\n')),
        text.slice(text.indexOf('\r\n\r\n') + 4),
      ]
      resolve({ status: Number(statusLine.split(' ')[1]), body })
    })
  })
}

// @hono/node-server refuses these targets with a bare 400 before any app code runs; the gateway
// answers them as it always did.
describe('request targets @hono/node-server cannot turn into a URL', () => {
  let upstream: TestUpstream
  let gateway: TestGateway
  beforeAll(async () => {
    upstream = await startUpstream()
    gateway = await startTestGateway({ upstreamUrl: upstream.url, stripeUrl: 'http://127.0.0.1:9' })
  })
  afterAll(async () => {
    await gateway?.close()
    await upstream?.close()
  })

  it('answers OPTIONS * with the bad-path problem', async () => {
    const response = await exchange(gateway.url, 'OPTIONS * HTTP/1.1\r\nHost: api.example.com')
    expect(response.status).toBe(400)
    expect(JSON.parse(response.body)).toEqual({
      type: 'urn:mpp-gateway:problem:bad-path',
      title: 'Bad Request',
      status: 400,
      detail: 'The request path is not acceptable: unsupported request target.',
    })
  })

  it('answers a backslash in the path with the bad-path problem and its reason', async () => {
    const response = await exchange(gateway.url, 'GET /v1/mo\\dels HTTP/1.1\r\nHost: api.example.com')
    expect(response.status).toBe(400)
    expect(JSON.parse(response.body).detail).toBe('The request path is not acceptable: backslash.')
  })

  it('forwards a free request whose Host names no host, and one without a Host', async () => {
    const before = upstream.requests.length
    const oddHost = await exchange(gateway.url, 'GET /v1/models?a=1 HTTP/1.1\r\nHost: exa_mple:99999')
    const noHost = await exchange(gateway.url, 'GET /v1/models?b=2 HTTP/1.0')
    expect([oddHost.status, noHost.status]).toEqual([200, 200])
    expect(upstream.requests.slice(before).map((r) => r.url)).toEqual(['/v1/models?a=1', '/v1/models?b=2'])
  })
})
