import http, { type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AdminConfig } from '../config/types.js'

export interface AdminServer {
  readonly server: Server
  /** e.g. http://127.0.0.1:9402 */
  readonly url: string
  close(): Promise<void>
}

/**
 * Starts the admin port. Under `workers: N` every worker calls this like it listens on the public
 * port, and node:cluster shares the one socket: each connection lands on some worker.
 */
export async function startAdminServer(admin: AdminConfig, listener: RequestListener): Promise<AdminServer> {
  // A scraper needs seconds, not the public port's long-lived streams.
  const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, listener)
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${admin.host.includes(':') ? `[${admin.host}]` : admin.host}:${admin.port}`
      const hint =
        error.code === 'EADDRINUSE' ? ' (another gateway on this machine? set admin.listen, or admin: false)' : ''
      reject(new Error(`admin.listen ${where}: ${error.message}${hint}`))
    })
    server.listen(admin.port, admin.host, () => resolve())
  })
  return {
    server,
    url: listeningUrl(server),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** The URL a local client reaches a listening server at (a wildcard bind is reached on 127.0.0.1). */
export function listeningUrl(server: Server): string {
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`
}
