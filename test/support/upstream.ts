import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
  rawHeaders: string[]
  body: string
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, body: string) => void

export interface TestUpstream {
  url: string
  requests: RecordedRequest[]
  /** per-path handlers (exact path match, query ignored); default: a small JSON echo */
  handlers: Map<string, UpstreamHandler>
  close(): Promise<void>
}

/** A throwaway upstream API that records everything it receives. */
export async function startUpstream(): Promise<TestUpstream> {
  const requests: RecordedRequest[] = []
  const handlers = new Map<string, UpstreamHandler>()
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
      })
      const path = (req.url ?? '/').split('?')[0]!
      const handler = handlers.get(path)
      if (handler) return handler(req, res, body)
      const payload = JSON.stringify({ ok: true, method: req.method, url: req.url })
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) })
      res.end(payload)
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handlers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
