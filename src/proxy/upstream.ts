import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import https from 'node:https'
import { forwardableRequestHeaders, forwardableResponseHeaders, privateCacheControl } from './headers.js'

export interface ForwardRequest {
  /** the inbound request; its body is streamed upstream unless `body` is given */
  readonly incoming: IncomingMessage
  readonly outgoing: ServerResponse
  /** canonical path plus the original query, relative to the upstream base path */
  readonly pathAndQuery: string
  /** the request body when the gateway had to read it (for a digest) */
  readonly body?: Buffer
  /** what remains of Authorization once the Payment credential is taken out */
  readonly authorization?: string
  readonly clientIp: string
  /** set on paid requests: sent upstream and returned to the client */
  readonly receipt?: string
  /** called with the upstream's status just before its response is passed on */
  readonly onResponse?: (status: number) => void
}

export type ForwardOutcome =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly failure: 'connect' | 'timeout'; readonly message: string }

export interface Upstream {
  /**
   * Sends the request upstream and, once response headers arrive, streams the response to the
   * client. Resolves at that point with the status, or with the failure when no response came
   * (the caller answers 502/504; nothing has been written to the client then).
   */
  forward(request: ForwardRequest): Promise<ForwardOutcome>
  close(): void
}

/** A pooled keep-alive HTTP(S) client for one upstream base URL. */
export function createUpstream(base: URL, timeoutMs: number): Upstream {
  const secure = base.protocol === 'https:'
  const transport = secure ? https : http
  const agent = new transport.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 256, scheduling: 'lifo' })
  const basePath = base.pathname === '/' ? '' : base.pathname
  const hostHeader = base.host

  function forward(request: ForwardRequest): Promise<ForwardOutcome> {
    const { incoming, outgoing, body } = request
    const headers = forwardableRequestHeaders(incoming.rawHeaders, body !== undefined)
    headers.push(['Host', hostHeader])
    if (request.authorization) headers.push(['Authorization', request.authorization])
    if (request.receipt) headers.push(['Payment-Receipt', request.receipt])
    if (body !== undefined) headers.push(['Content-Length', String(body.length)])
    headers.push(['X-Forwarded-For', request.clientIp])
    headers.push(['X-Forwarded-Proto', 'encrypted' in incoming.socket ? 'https' : 'http'])
    if (incoming.headers.host) headers.push(['X-Forwarded-Host', incoming.headers.host])

    return new Promise((resolve) => {
      let settled = false
      const upstreamRequest = transport.request({
        agent,
        protocol: base.protocol,
        hostname: base.hostname,
        port: base.port,
        method: incoming.method,
        path: basePath + request.pathAndQuery,
        headers: headers.flat(),
        setHost: false,
      })
      const timer = setTimeout(() => {
        if (settled) return
        settled = true
        upstreamRequest.destroy()
        resolve({ ok: false, failure: 'timeout', message: `no response from the upstream within ${timeoutMs} ms` })
      }, timeoutMs)

      upstreamRequest.on('error', (error) => {
        clearTimeout(timer)
        if (settled) {
          // The response had started: all we can do is cut the client off too.
          outgoing.destroy()
          return
        }
        settled = true
        resolve({ ok: false, failure: 'connect', message: `upstream connection failed: ${error.message}` })
      })

      upstreamRequest.on('response', (upstreamResponse: IncomingMessage) => {
        clearTimeout(timer)
        if (settled) {
          upstreamResponse.destroy()
          return
        }
        settled = true
        const status = upstreamResponse.statusCode ?? 502
        request.onResponse?.(status)
        if (outgoing.destroyed) {
          // The client left while we waited; the status still goes to the ledger.
          upstreamResponse.resume()
          resolve({ ok: true, status })
          return
        }
        let responseHeaders = forwardableResponseHeaders(upstreamResponse.rawHeaders)
        // Headers the gateway set before forwarding (CORS) replace the upstream's of the same name.
        // They are moved into the raw list: writeHead would otherwise merge through setHeader and
        // collapse repeated upstream headers (Set-Cookie, Link) into their last value.
        const preset = outgoing.getHeaderNames()
        if (preset.length > 0) {
          responseHeaders = responseHeaders.filter(([name]) => !preset.includes(name.toLowerCase()))
          for (const name of preset) {
            const value = outgoing.getHeader(name)
            outgoing.removeHeader(name)
            for (const item of Array.isArray(value) ? value : [value]) if (item !== undefined) responseHeaders.push([name, String(item)])
          }
        }
        if (request.receipt) {
          const cacheControl = upstreamResponse.headers['cache-control']
          const kept = responseHeaders.filter(([name]) => !/^(cache-control|payment-receipt)$/i.test(name))
          kept.push(['Payment-Receipt', request.receipt], ['Cache-Control', privateCacheControl(cacheControl)])
          outgoing.writeHead(status, kept.flat())
        } else {
          outgoing.writeHead(status, responseHeaders.flat())
        }
        // A streamed response (no length: SSE, chunked) shows its headers at once rather than with
        // the first chunk; a sized one sends headers and body together, saving a write.
        if (upstreamResponse.headers['content-length'] === undefined) outgoing.flushHeaders()
        upstreamResponse.pipe(outgoing)
        upstreamResponse.on('error', () => outgoing.destroy())
        resolve({ ok: true, status })
      })

      // A client that goes away takes its upstream request with it.
      outgoing.on('close', () => {
        if (!outgoing.writableFinished) upstreamRequest.destroy()
      })

      if (body !== undefined) upstreamRequest.end(body)
      else incoming.pipe(upstreamRequest)
    })
  }

  return {
    forward,
    close: () => agent.destroy(),
  }
}
