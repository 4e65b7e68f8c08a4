import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { request } from '../../test/support/http.js'
import { createUpstream, type Delivery, type ForwardOutcome, type ResponseHold, type Upstream } from './upstream.js'

// The response hold of a paid route with a grant: a 2xx waits for the gateway's headers, its body
// relayed unchanged; everything else streams as before.

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void
let handle: Handler = (_req, res) => res.end('ok')
let hold: ResponseHold | undefined
const seenHeaders: http.IncomingHttpHeaders[] = []
const calls: Array<{ status: number; location: unknown; body: string | undefined }> = []
const outcomes: ForwardOutcome[] = []
const deliveries: Delivery[] = []
let upstreamServer: http.Server
let upstream: Upstream
let proxy: http.Server
let proxyUrl: string
const TIMEOUT_MS = 300

const listen = (server: http.Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  )

/** a hold that records what it was handed and adds X-Key */
const recording = (bodyBytes: number): ResponseHold => ({
  bodyBytes,
  async headers(status, upstreamHeaders, body) {
    calls.push({ status, location: upstreamHeaders.location, body: body?.toString('utf8') })
    return [['X-Key', 'k1']]
  },
})

beforeAll(async () => {
  upstreamServer = http.createServer((req, res) => {
    seenHeaders.push(req.headers)
    req.resume()
    req.on('end', () => handle(req, res))
  })
  upstream = createUpstream(new URL(await listen(upstreamServer)), TIMEOUT_MS)
  proxy = http.createServer(async (incoming, outgoing) => {
    const outcome = await upstream.forward({
      incoming,
      outgoing,
      pathAndQuery: incoming.url!,
      clientIp: '127.0.0.1',
      trackDelivery: true,
      dropRequestHeaders: ['x-api-key'],
      ...(hold ? { hold } : {}),
    })
    outcomes.push(outcome)
    if (outcome.ok) deliveries.push(await outcome.delivery!)
    else outgoing.writeHead(599).end(outcome.failure)
  })
  proxyUrl = await listen(proxy)
})
afterEach(() => {
  handle = (_req, res) => res.end('ok')
  hold = undefined
  seenHeaders.length = 0
  calls.length = 0
  outcomes.length = 0
  deliveries.length = 0
})
afterAll(async () => {
  upstream.close()
  await new Promise((resolve) => proxy.close(resolve))
  await new Promise((resolve) => upstreamServer.close(resolve))
})

const until = async (check: () => boolean) => {
  const deadline = Date.now() + 2_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('upstream response hold', () => {
  it('hands a whole 2xx body to the hold, adds its headers, and relays the body unchanged', async () => {
    hold = recording(1024)
    handle = (_req, res) => {
      res.writeHead(201, { 'Content-Type': 'application/json' })
      res.write('{"id":')
      setTimeout(() => res.end('"ord_1"}'), 20)
    }
    const res = await request(`${proxyUrl}/orders`)
    expect(res.status).toBe(201)
    expect(res.headers['x-key']).toBe('k1')
    expect(res.body).toBe('{"id":"ord_1"}')
    expect(calls).toEqual([{ status: 201, location: undefined, body: '{"id":"ord_1"}' }])
    await until(() => deliveries.length === 1)
    expect(deliveries[0]).toEqual({ end: 'complete', bytesSent: 14 })
  })

  it('hands no body when it is over the limit, and still relays all of it', async () => {
    hold = recording(1024)
    const big = 'x'.repeat(200_000)
    handle = (_req, res) => {
      res.writeHead(200, { 'Content-Length': big.length })
      res.end(big)
    }
    const res = await request(`${proxyUrl}/big`)
    expect(res.headers['x-key']).toBe('k1')
    expect(res.body).toBe(big)
    expect(calls).toEqual([{ status: 200, location: undefined, body: undefined }])
    await until(() => deliveries.length === 1)
    expect(deliveries[0]).toEqual({ end: 'complete', bytesSent: 200_000, bytesExpected: 200_000 })
  })

  it('with bodyBytes 0, hands the headers only', async () => {
    hold = recording(0)
    handle = (_req, res) => {
      res.writeHead(201, { Location: '/orders/ord_9' })
      res.end('created')
    }
    const res = await request(`${proxyUrl}/orders`)
    expect(res.headers['x-key']).toBe('k1')
    expect(res.body).toBe('created')
    expect(calls).toEqual([{ status: 201, location: '/orders/ord_9', body: undefined }])
  })

  it('does not hold a non-2xx answer', async () => {
    hold = recording(1024)
    handle = (_req, res) => {
      res.writeHead(500)
      res.end('{"id":"x"}')
    }
    const res = await request(`${proxyUrl}/orders`)
    expect(res.status).toBe(500)
    expect(res.headers['x-key']).toBeUndefined()
    expect(calls).toEqual([])
  })

  it('lets a body slower than the upstream timeout go on streaming, handing the hold no body', async () => {
    hold = recording(1024)
    handle = (_req, res) => {
      res.writeHead(200)
      res.write('first ')
      setTimeout(() => res.end('last'), TIMEOUT_MS + 200)
    }
    const res = await request(`${proxyUrl}/slow`)
    expect(res.headers['x-key']).toBe('k1')
    expect(res.body).toBe('first last')
    expect(calls).toEqual([{ status: 200, location: undefined, body: undefined }])
  })

  it('cuts the client off when the upstream fails during the hold, without asking the hold', async () => {
    hold = recording(1024)
    handle = (_req, res) => {
      res.writeHead(200, { 'Content-Length': 100 })
      res.write('partial')
      setTimeout(() => res.destroy(), 20)
    }
    await expect(request(`${proxyUrl}/cut`)).rejects.toThrow()
    await until(() => deliveries.length === 1)
    expect(deliveries[0]).toMatchObject({ end: 'cut', bytesExpected: 100 })
    expect(calls).toEqual([])
  })

  it('drops the request headers it is told to', async () => {
    await request(`${proxyUrl}/x`, { headers: { 'X-Api-Key': 'mppk_secret', 'X-Other': 'kept' } })
    expect(seenHeaders[0]!['x-api-key']).toBeUndefined()
    expect(seenHeaders[0]!['x-other']).toBe('kept')
  })
})
