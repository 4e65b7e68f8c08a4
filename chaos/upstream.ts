import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request the gateway forwarded: when, for which harness credential, and the receipt it vouched with. */
export interface UpstreamHit {
  at: number
  path: string
  /** the harness's `x-chaos-credential` header, as the client sent it */
  credentialId: string | undefined
  /** the `Payment-Receipt` request header the gateway added, raw */
  receipt: string | undefined
}

export interface ChaosUpstream {
  url: string
  hits: UpstreamHit[]
  close(): Promise<void>
}

/** The paid API behind the replicas: answers a small JSON body and logs every hit. */
export async function startChaosUpstream(): Promise<ChaosUpstream> {
  const hits: UpstreamHit[] = []
  const server = http.createServer((req, res) => {
    const header = (name: string) => {
      const value = req.headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    }
    hits.push({
      at: Date.now(),
      path: req.url ?? '',
      credentialId: header('x-chaos-credential'),
      receipt: header('payment-receipt'),
    })
    req.resume()
    req.on('end', () => {
      const body = JSON.stringify({ ok: true })
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
