import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CorsConfig } from '../config/types.js'
import { answerPreflight, applyCors } from './cors.js'

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** A real server wired the way the gateway uses these functions: preflight first, then headers, then the answer. */
function serve(cors: CorsConfig): Promise<{
  server: Server
  send: (method: string, path: string, headers?: Record<string, string | string[]>) => Promise<Reply>
}> {
  const server = createServer((incoming, outgoing) => {
    if (answerPreflight(cors, incoming, outgoing)) return
    if (incoming.url === '/vary') outgoing.setHeader('Vary', 'Accept-Encoding')
    const applied = applyCors(cors, incoming, outgoing)
    outgoing.writeHead(402, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Payment id="x"' })
    outgoing.end(JSON.stringify({ cors: applied }))
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      const send = (method: string, path: string, headers: Record<string, string | string[]> = {}) =>
        new Promise<Reply>((done, fail) => {
          const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
            let body = ''
            res.setEncoding('utf8')
            res.on('data', (chunk: string) => (body += chunk))
            res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body }))
          })
          req.on('error', fail)
          req.end()
        })
      resolve({ server, send })
    })
  })
}

const CORS_HEADERS = [
  'access-control-allow-origin',
  'access-control-expose-headers',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-max-age',
  'access-control-allow-credentials',
]

describe('CORS with a list of origins', () => {
  let gateway: Awaited<ReturnType<typeof serve>>
  beforeAll(async () => {
    gateway = await serve({ origins: ['https://app.example.com'], maxAgeSeconds: 600 })
  })
  afterAll(() => new Promise<void>((r) => gateway.server.close(() => r())))

  it('lets an allowed origin read the challenge: echoes it, exposes WWW-Authenticate and Payment-Receipt, varies on Origin', async () => {
    const reply = await gateway.send('GET', '/v1/cheap', { Origin: 'https://app.example.com' })
    expect(reply.status).toBe(402)
    expect(reply.headers['access-control-allow-origin']).toBe('https://app.example.com')
    expect(reply.headers['access-control-expose-headers']).toBe('WWW-Authenticate, Payment-Receipt')
    expect(reply.headers.vary).toBe('Origin')
    expect(reply.headers['access-control-allow-credentials']).toBeUndefined()
    expect(JSON.parse(reply.body)).toEqual({ cors: true })
  })

  it('appends Origin to a Vary the response already has', async () => {
    const reply = await gateway.send('GET', '/vary', { Origin: 'https://app.example.com' })
    expect(reply.headers.vary).toBe('Accept-Encoding, Origin')
  })

  it('adds nothing for an origin that is not allowed, nor for a request without Origin', async () => {
    const cases: Array<Record<string, string>> = [
      { Origin: 'https://evil.example' },
      { Origin: 'https://app.example.com.evil.example' },
      {},
    ]
    for (const headers of cases) {
      const reply = await gateway.send('GET', '/v1/cheap', headers)
      expect(reply.status).toBe(402)
      for (const name of CORS_HEADERS) expect(reply.headers[name]).toBeUndefined()
      expect(reply.headers.vary).toBeUndefined()
      expect(JSON.parse(reply.body)).toEqual({ cors: false })
    }
  })

  it('answers an allowed preflight with 204, the method, Authorization among the allowed headers, and the max age', async () => {
    const reply = await gateway.send('OPTIONS', '/v1/cheap', {
      Origin: 'https://app.example.com',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization, x-trace-id',
    })
    expect(reply.status).toBe(204)
    expect(reply.body).toBe('')
    expect(reply.headers['access-control-allow-origin']).toBe('https://app.example.com')
    expect(reply.headers.vary).toBe('Origin')
    expect(reply.headers['access-control-allow-methods']?.split(', ')).toContain('POST')
    const allowed = reply.headers['access-control-allow-headers']!.toLowerCase().split(', ')
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'accept-payment', 'x-trace-id']))
    expect(allowed.filter((name) => name === 'authorization')).toHaveLength(1)
    expect(reply.headers['access-control-max-age']).toBe('600')
    expect(reply.headers['access-control-allow-credentials']).toBeUndefined()
  })

  it('allows Authorization on a preflight that did not list any headers', async () => {
    const reply = await gateway.send('OPTIONS', '/v1/cheap', {
      Origin: 'https://app.example.com',
      'Access-Control-Request-Method': 'GET',
    })
    expect(reply.status).toBe(204)
    expect(reply.headers['access-control-allow-headers']).toBe('Authorization, Content-Type, Accept-Payment')
  })

  it('refuses a preflight from an origin that is not allowed with an empty 403', async () => {
    const reply = await gateway.send('OPTIONS', '/v1/cheap', {
      Origin: 'https://evil.example',
      'Access-Control-Request-Method': 'POST',
    })
    expect(reply.status).toBe(403)
    expect(reply.body).toBe('')
    for (const name of CORS_HEADERS) expect(reply.headers[name]).toBeUndefined()
  })

  it('leaves an OPTIONS that is not a preflight to the caller', async () => {
    const plain = await gateway.send('OPTIONS', '/v1/cheap')
    expect(plain.status).toBe(402)
    expect(JSON.parse(plain.body)).toEqual({ cors: false })
    // Origin without Access-Control-Request-Method: an actual cross-origin OPTIONS request
    const actual = await gateway.send('OPTIONS', '/v1/cheap', { Origin: 'https://app.example.com' })
    expect(actual.status).toBe(402)
    expect(actual.headers['access-control-allow-origin']).toBe('https://app.example.com')
    expect(actual.headers['access-control-allow-methods']).toBeUndefined()
  })
})

describe('CORS with "*"', () => {
  let gateway: Awaited<ReturnType<typeof serve>>
  beforeAll(async () => {
    gateway = await serve({ origins: ['*'], maxAgeSeconds: 60 })
  })
  afterAll(() => new Promise<void>((r) => gateway.server.close(() => r())))

  it('echoes any origin rather than sending "*"', async () => {
    const reply = await gateway.send('GET', '/v1/cheap', { Origin: 'https://anyone.example' })
    expect(reply.headers['access-control-allow-origin']).toBe('https://anyone.example')
    expect(reply.headers.vary).toBe('Origin')
    const preflight = await gateway.send('OPTIONS', '/v1/cheap', {
      Origin: 'http://localhost:5173',
      'Access-Control-Request-Method': 'GET',
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers['access-control-allow-origin']).toBe('http://localhost:5173')
    expect(preflight.headers['access-control-max-age']).toBe('60')
  })

  it('does not echo several Origin lines joined into one', async () => {
    const reply = await gateway.send('GET', '/v1/cheap', { Origin: ['https://a.example', 'https://b.example'] })
    expect(reply.headers['access-control-allow-origin']).toBeUndefined()
  })
})

describe('CORS with credentials', () => {
  let gateway: Awaited<ReturnType<typeof serve>>
  beforeAll(async () => {
    gateway = await serve({ origins: ['https://app.example.com'], maxAgeSeconds: 60, credentials: true })
  })
  afterAll(() => new Promise<void>((r) => gateway.server.close(() => r())))

  it('allows credentials for a listed origin, on the answer and on the preflight', async () => {
    const reply = await gateway.send('GET', '/v1/cheap', { Origin: 'https://app.example.com' })
    expect(reply.headers['access-control-allow-origin']).toBe('https://app.example.com')
    expect(reply.headers['access-control-allow-credentials']).toBe('true')
    const preflight = await gateway.send('OPTIONS', '/v1/cheap', {
      Origin: 'https://app.example.com',
      'Access-Control-Request-Method': 'GET',
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers['access-control-allow-credentials']).toBe('true')
  })

  it('sends nothing to an origin that is not listed', async () => {
    const reply = await gateway.send('GET', '/v1/cheap', { Origin: 'https://evil.example' })
    for (const name of CORS_HEADERS) expect(reply.headers[name]).toBeUndefined()
  })

  it('never with "*", even if a hand-built config asks for it', async () => {
    const star = await serve({ origins: ['*'], maxAgeSeconds: 60, credentials: true })
    try {
      const reply = await star.send('GET', '/v1/cheap', { Origin: 'https://anyone.example' })
      expect(reply.headers['access-control-allow-origin']).toBe('https://anyone.example')
      expect(reply.headers['access-control-allow-credentials']).toBeUndefined()
    } finally {
      await new Promise<void>((r) => star.server.close(() => r()))
    }
  })
})
