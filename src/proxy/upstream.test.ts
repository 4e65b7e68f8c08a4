import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { request } from '../../test/support/http.js'
import { createUpstream, type Delivery, type ForwardOutcome, type Upstream } from './upstream.js'

/** What the upstream saw of one request, and how its response ended. */
interface Seen {
  headers: http.IncomingHttpHeaders
  body: Buffer
  /** resolves when the upstream's response closed: `finished` false when it was cut off before its end */
  closed: Promise<{ finished: boolean }>
}

type UpstreamHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void

let handle: UpstreamHandler = (_req, res) => res.end('ok')
const seen: Seen[] = []
let upstreamServer: http.Server
let upstream: Upstream
let proxy: http.Server
let proxyUrl: string
const outcomes: ForwardOutcome[] = []

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  )
}

beforeAll(async () => {
  upstreamServer = http.createServer((req, res) => {
    const entry: Seen = {
      headers: req.headers,
      body: Buffer.alloc(0),
      closed: new Promise((resolve) => res.once('close', () => resolve({ finished: res.writableFinished }))),
    }
    seen.push(entry)
    // Handlers that read the body themselves say so by taking it before any 'data' listener here.
    if (req.headers['x-test-read'] === 'later') return handle(req, res)
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      entry.body = Buffer.concat(chunks)
      handle(req, res)
    })
  })
  const upstreamUrl = await listen(upstreamServer)
  upstream = createUpstream(new URL(upstreamUrl), 1_000)
  // The smallest caller: every request forwarded as a free route, delivery tracked.
  proxy = http.createServer(async (incoming, outgoing) => {
    const outcome = await upstream.forward({
      incoming,
      outgoing,
      pathAndQuery: incoming.url!,
      clientIp: '127.0.0.1',
      trackDelivery: true,
    })
    outcomes.push(outcome)
    if (!outcome.ok) outgoing.writeHead(599).end(outcome.failure)
  })
  proxyUrl = await listen(proxy)
})
afterEach(() => {
  handle = (_req, res) => res.end('ok')
  seen.length = 0
  outcomes.length = 0
})
afterAll(async () => {
  upstream.close()
  await new Promise((resolve) => proxy.close(resolve))
  await new Promise((resolve) => upstreamServer.close(resolve))
})

/** A request whose response the client reads only once `read()` is called, or never. */
function pausedRequest(path: string, options: http.RequestOptions = {}) {
  const { hostname, port } = new URL(proxyUrl)
  const req = http.request({ hostname, port, path, agent: false, ...options })
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.on('response', (res) => {
      res.pause()
      resolve(res)
    })
    req.on('error', reject)
  })
  // a test that destroys the request never awaits its response
  response.catch(() => {})
  if (options.method !== 'POST') req.end()
  return { req, response }
}

function until(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) resolve()
      else if (Date.now() > deadline) reject(new Error('condition not met in time'))
      else setTimeout(poll, 5)
    }
    poll()
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const MiB = 1024 * 1024

describe('createUpstream (undici pool)', () => {
  it('forwards a body sent with Expect: 100-continue, without the expectation', async () => {
    const { hostname, port } = new URL(proxyUrl)
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request({
        hostname,
        port,
        path: '/upload',
        method: 'POST',
        agent: false,
        headers: { expect: '100-continue', 'content-length': '5' },
      })
      req.on('continue', () => req.end('hello'))
      req.on('response', (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve(Buffer.concat(chunks).toString()))
      })
      req.on('error', reject)
    })
    expect(body).toBe('ok')
    expect(seen).toHaveLength(1)
    expect(seen[0]!.body.toString()).toBe('hello')
    expect(seen[0]!.headers.expect).toBeUndefined()
    expect(seen[0]!.headers['content-length']).toBe('5')
  })

  it('re-chunks a chunked request body and relays an unsized response chunk by chunk', async () => {
    handle = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write(`te=${req.headers['transfer-encoding']};`)
      res.end(`len=${req.headers['content-length']}`)
    }
    // The body is still arriving when it is forwarded, so its length is unknown: re-chunked.
    const { req, response } = pausedRequest('/chunked', { method: 'POST', headers: { 'transfer-encoding': 'chunked' } })
    req.write('ab')
    await sleep(50)
    req.end('c')
    const res = await response
    expect(res.statusCode).toBe(200)
    expect(res.headers['transfer-encoding']).toBe('chunked')
    res.resume()
    const chunks: Buffer[] = []
    res.on('data', (chunk: Buffer) => chunks.push(chunk))
    await new Promise((resolve) => res.on('end', resolve))
    expect(Buffer.concat(chunks).toString()).toBe('te=chunked;len=undefined')
    expect(seen[0]!.body.toString()).toBe('abc')
  })

  it('a client that leaves before the upstream answers cancels the upstream request', async () => {
    handle = () => {}
    const { req } = pausedRequest('/slow')
    req.on('error', () => {})
    await until(() => seen.length === 1)
    req.destroy()
    expect(await seen[0]!.closed).toEqual({ finished: false })
  })

  it('a client that leaves mid-response cancels the upstream response: delivery client-gone', async () => {
    handle = (_req, res) => {
      res.writeHead(200, { 'content-length': String(10 * MiB) })
      res.write(Buffer.alloc(64 * 1024))
    }
    const { req, response } = pausedRequest('/stream')
    req.on('error', () => {})
    const res = await response
    res.on('error', () => {})
    res.destroy()
    expect(await seen[0]!.closed).toEqual({ finished: false })
    await until(() => outcomes.length === 1)
    const outcome = outcomes[0]!
    expect(outcome.ok).toBe(true)
    const delivery = await (outcome as { delivery: Promise<Delivery> }).delivery
    expect(delivery.end).toBe('client-gone')
    expect(delivery.bytesExpected).toBe(10 * MiB)
  })

  it('an upstream that stops short of its Content-Length cuts the client off: delivery cut', async () => {
    handle = (_req, res) => {
      res.writeHead(200, { 'content-length': '10' })
      res.write('12345', () => setTimeout(() => res.destroy(), 20))
    }
    const { hostname, port } = new URL(proxyUrl)
    const received = await new Promise<{ bytes: number; aborted: boolean }>((resolve) => {
      const req = http.get({ hostname, port, path: '/cut', agent: false }, (res) => {
        let bytes = 0
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length
        })
        res.on('error', () => {})
        res.on('close', () => resolve({ bytes, aborted: !res.complete }))
      })
      req.on('error', () => {})
    })
    expect(received).toEqual({ bytes: 5, aborted: true })
    await until(() => outcomes.length === 1)
    const delivery = await (outcomes[0] as { delivery: Promise<Delivery> }).delivery
    expect(delivery).toEqual({ end: 'cut', bytesSent: 5, bytesExpected: 10 })
  })

  it('a full response counts as complete, every byte', async () => {
    handle = (_req, res) => res.writeHead(200, { 'content-length': '11' }).end('hello world')
    const res = await request(`${proxyUrl}/full`)
    expect(res.body).toBe('hello world')
    await until(() => outcomes.length === 1)
    const delivery = await (outcomes[0] as { delivery: Promise<Delivery> }).delivery
    expect(delivery).toEqual({ end: 'complete', bytesSent: 11, bytesExpected: 11 })
  })

  it('no response headers within the timeout: timeout, and the upstream request is cancelled', async () => {
    handle = () => {}
    const res = await request(`${proxyUrl}/never`)
    expect(res.status).toBe(599)
    expect(res.body).toBe('timeout')
    expect(await seen[0]!.closed).toEqual({ finished: false })
  })

  it('honours backpressure from a client that does not read: the upstream is held back', async () => {
    const total = 96 * MiB
    let written = 0
    handle = (_req, res) => {
      res.writeHead(200, { 'content-length': String(total) })
      const chunk = Buffer.alloc(256 * 1024)
      const pump = () => {
        while (written < total) {
          written += chunk.length
          if (!res.write(chunk)) return void res.once('drain', pump)
        }
        res.end()
      }
      pump()
    }
    const { response } = pausedRequest('/big')
    const res = await response
    await sleep(300)
    // socket buffers on both legs hold a few MiB; a buffering proxy would have taken it all
    expect(written).toBeLessThan(total / 3)
    let bytes = 0
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length
    })
    res.resume()
    await new Promise((resolve) => res.on('end', resolve))
    expect(bytes).toBe(total)
  })

  it('honours backpressure from an upstream that does not read the request body', async () => {
    const total = 96 * MiB
    let release: () => void = () => {}
    handle = (req, res) => {
      // headers at once, so the header timer is out of the picture; the body is read only later
      res.writeHead(200)
      res.flushHeaders()
      let bytes = 0
      release = () => {
        req.on('data', (chunk: Buffer) => {
          bytes += chunk.length
        })
        req.on('end', () => res.end(String(bytes)))
      }
    }
    const { hostname, port } = new URL(proxyUrl)
    const req = http.request({
      hostname,
      port,
      path: '/upload-big',
      method: 'POST',
      agent: false,
      headers: { 'content-length': String(total), 'x-test-read': 'later' },
    })
    const answer = new Promise<string>((resolve, reject) => {
      req.on('response', (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve(Buffer.concat(chunks).toString()))
      })
      req.on('error', reject)
    })
    let sent = 0
    const chunk = Buffer.alloc(256 * 1024)
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (sent < total) {
          sent += chunk.length
          if (!req.write(chunk)) return void req.once('drain', pump)
        }
        req.end()
        resolve()
      }
      pump()
      setTimeout(resolve, 200)
    })
    expect(sent).toBeLessThan(total / 3)
    release()
    expect(await answer).toBe(String(total))
  })
})
