import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { headerLines, request } from '../support/http.js'
import { authorizationFor, challengeFor } from '../support/pay.js'
import { type Stack, startStack } from '../support/stack.js'

const ROUTES = [
  { match: 'GET /v1/cheap', price: '0.50' },
  { match: '* /public/*', price: 'free' },
]

/** An upstream that grants any origin credentialed access, the two ways servers do it. */
function hostileCors(stack: Stack): void {
  const answer = (allowOrigin: (req: IncomingMessage) => string) => (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Access-Control-Allow-Origin': allowOrigin(req),
      'Access-Control-Allow-Credentials': 'true',
      'Content-Length': '2',
    })
    res.end('{}')
  }
  const reflect = answer((req) => req.headers.origin ?? '*')
  stack.upstream.handlers.set('/public/reflect', reflect)
  stack.upstream.handlers.set(
    '/public/star',
    answer(() => '*'),
  )
  stack.upstream.handlers.set('/v1/cheap', reflect)
  stack.upstream.handlers.set('/public/varied', (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'Content-Type': 'application/json', Vary: 'Accept-Encoding', 'Content-Length': '2' })
    res.end('{}')
  })
}

async function startCorsStack(cors: Record<string, unknown>): Promise<Stack> {
  const stack = await startStack({ routes: ROUTES, extra: { cors } })
  hostileCors(stack)
  return stack
}

describe('cors.origins "*" in front of an upstream that allows credentials', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startCorsStack({ origins: ['*'] })
  })
  afterAll(() => stack.close())

  it('never sends Access-Control-Allow-Credentials, on a free route, whatever the upstream said', async () => {
    for (const path of ['/public/reflect', '/public/star']) {
      const res = await request(`${stack.gw.url}${path}`, { headers: { origin: 'https://evil.example' } })
      expect(res.status).toBe(200)
      expect(headerLines(res, 'access-control-allow-origin'), path).toEqual(['https://evil.example'])
      expect(headerLines(res, 'access-control-allow-credentials'), path).toEqual([])
    }
    // no Origin: the upstream's grant is dropped too
    const plain = await request(`${stack.gw.url}/public/star`)
    expect(headerLines(plain, 'access-control-allow-origin')).toEqual([])
    expect(headerLines(plain, 'access-control-allow-credentials')).toEqual([])
  })

  it("adds Origin to the upstream's Vary rather than replacing it", async () => {
    const res = await request(`${stack.gw.url}/public/varied`, { headers: { origin: 'https://app.example' } })
    expect(headerLines(res, 'vary')).toEqual(['Accept-Encoding, Origin'])
  })

  it('nor on a paid answer', async () => {
    const challenge = challengeFor(
      await request(`${stack.gw.url}/v1/cheap`, { headers: { origin: 'https://evil.example' } }),
    )
    const res = await request(`${stack.gw.url}/v1/cheap`, {
      headers: {
        origin: 'https://evil.example',
        authorization: authorizationFor(challenge, { spt: await stack.spt() }),
      },
    })
    expect(res.status).toBe(200)
    expect(res.headers['payment-receipt']).toBeDefined()
    expect(headerLines(res, 'access-control-allow-origin')).toEqual(['https://evil.example'])
    expect(headerLines(res, 'access-control-allow-credentials')).toEqual([])
  })
})

describe('cors.origins as a list', () => {
  let stack: Stack
  let withCredentials: Stack
  beforeAll(async () => {
    stack = await startCorsStack({ origins: ['https://app.example.com'] })
    withCredentials = await startCorsStack({ origins: ['https://app.example.com'], credentials: true })
  })
  afterAll(async () => {
    await stack.close()
    await withCredentials.close()
  })

  it("without cors.credentials: the upstream's Allow-Credentials is dropped, and an unlisted origin gets no grant", async () => {
    const listed = await request(`${stack.gw.url}/public/reflect`, { headers: { origin: 'https://app.example.com' } })
    expect(headerLines(listed, 'access-control-allow-origin')).toEqual(['https://app.example.com'])
    expect(headerLines(listed, 'access-control-allow-credentials')).toEqual([])
    const unlisted = await request(`${stack.gw.url}/public/reflect`, { headers: { origin: 'https://evil.example' } })
    expect(headerLines(unlisted, 'access-control-allow-origin')).toEqual([])
    expect(headerLines(unlisted, 'access-control-allow-credentials')).toEqual([])
  })

  it('with cors.credentials: true: one Allow-Credentials line for a listed origin only', async () => {
    const listed = await request(`${withCredentials.gw.url}/public/reflect`, {
      headers: { origin: 'https://app.example.com' },
    })
    expect(headerLines(listed, 'access-control-allow-origin')).toEqual(['https://app.example.com'])
    expect(headerLines(listed, 'access-control-allow-credentials')).toEqual(['true'])
    const unlisted = await request(`${withCredentials.gw.url}/public/reflect`, {
      headers: { origin: 'https://evil.example' },
    })
    expect(headerLines(unlisted, 'access-control-allow-origin')).toEqual([])
    expect(headerLines(unlisted, 'access-control-allow-credentials')).toEqual([])
    const challenged = await request(`${withCredentials.gw.url}/v1/cheap`, {
      headers: { origin: 'https://app.example.com' },
    })
    expect(challenged.status).toBe(402)
    expect(headerLines(challenged, 'access-control-allow-credentials')).toEqual(['true'])
  })
})
