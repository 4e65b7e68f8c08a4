import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import https from 'node:https'
import { requestFraming } from './framing.js'
import {
  asksForPayment,
  forwardableRequestHeaders,
  forwardableResponseHeaders,
  mergeVary,
  privateCacheControl,
  strippedRequestHeaders,
} from './headers.js'

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
  /** set on paid requests: sent upstream, and returned to the client on a 2xx only */
  readonly receipt?: string
  /** called with the upstream's status just before its response is passed on */
  readonly onResponse?: (status: number) => void
  /** paid requests: the outcome then carries `delivery`, settled once the response is over */
  readonly trackDelivery?: boolean
}

/** How a relayed response ended: in full, cut short by the upstream, or abandoned by the client. */
export interface Delivery {
  readonly end: 'complete' | 'cut' | 'client-gone'
  /** response body bytes passed to the client */
  readonly bytesSent: number
  /** the upstream's Content-Length, when it sent one for a response with a body */
  readonly bytesExpected?: number
}

export type ForwardFailure = 'connect' | 'timeout' | 'payment-challenge' | 'framing'

export type ForwardOutcome =
  | { readonly ok: true; readonly status: number; readonly delivery?: Promise<Delivery> }
  /** `status`: what the upstream answered, for `payment-challenge` (nothing was relayed) */
  | { readonly ok: false; readonly failure: ForwardFailure; readonly message: string; readonly status?: number }

export interface Upstream {
  /**
   * Sends the request upstream and, once response headers arrive, streams the response to the
   * client. Resolves at that point with the status, or with the failure when nothing may be
   * relayed: no response (502/504), an upstream asking for payment (502), a transfer coding that
   * cannot be re-framed (501). The caller answers those; nothing has been written to the client.
   */
  forward(request: ForwardRequest): Promise<ForwardOutcome>
  close(): void
}

/** A pooled keep-alive HTTP(S) client for one upstream base URL. */
export function createUpstream(base: URL, timeoutMs: number, stripRequestHeaders: readonly string[] = []): Upstream {
  const secure = base.protocol === 'https:'
  const transport = secure ? https : http
  const agent = new transport.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 256, scheduling: 'lifo' })
  const basePath = base.pathname === '/' ? '' : base.pathname
  const hostHeader = base.host
  const stripped = strippedRequestHeaders(stripRequestHeaders)

  function forward(request: ForwardRequest): Promise<ForwardOutcome> {
    const { incoming, outgoing, body } = request
    // The inbound framing headers never go upstream: the gateway frames what it sends itself, so a
    // body Node's client would write unframed (GET, HEAD, DELETE, OPTIONS) cannot become a
    // second request on the pooled upstream connection.
    const framing = body === undefined ? requestFraming(incoming.headers) : 'length'
    if (framing === 'unsupported') {
      return Promise.resolve({
        ok: false,
        failure: 'framing',
        message: `unsupported transfer coding ${JSON.stringify(incoming.headers['transfer-encoding'])}`,
      })
    }
    const headers = forwardableRequestHeaders(incoming.rawHeaders, true, stripped)
    headers.push(['Host', hostHeader])
    if (request.authorization) headers.push(['Authorization', request.authorization])
    if (request.receipt) headers.push(['Payment-Receipt', request.receipt])
    if (body !== undefined) headers.push(['Content-Length', String(body.length)])
    else if (framing === 'length') headers.push(['Content-Length', incoming.headers['content-length']!])
    else if (framing === 'chunked') headers.push(['Transfer-Encoding', 'chunked'])
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
        if (asksForPayment(status, upstreamResponse.headers['www-authenticate'])) {
          // Only the gateway challenges: a client must never pay a challenge it did not issue.
          upstreamResponse.resume()
          resolve({
            ok: false,
            failure: 'payment-challenge',
            status,
            message: `the upstream answered ${status} asking for payment itself`,
          })
          return
        }
        if (outgoing.destroyed) {
          // The client left while we waited; the status still goes to the ledger.
          upstreamResponse.resume()
          resolve({
            ok: true,
            status,
            ...(request.trackDelivery
              ? { delivery: Promise.resolve<Delivery>({ end: 'client-gone', bytesSent: 0 }) }
              : {}),
          })
          return
        }
        let responseHeaders = forwardableResponseHeaders(upstreamResponse.rawHeaders)
        // Headers the gateway set before forwarding (CORS) replace the upstream's of the same name.
        // They are moved into the raw list: writeHead would otherwise merge through setHeader and
        // collapse repeated upstream headers (Set-Cookie, Link) into their last value.
        // Vary is the exception: the gateway's tokens (Origin) add to the upstream's, which caches need.
        const preset = outgoing.getHeaderNames()
        if (preset.length > 0) {
          const upstreamVary = preset.includes('vary')
            ? responseHeaders.filter(([name]) => name.toLowerCase() === 'vary').map(([, value]) => value)
            : []
          responseHeaders = responseHeaders.filter(([name]) => !preset.includes(name.toLowerCase()))
          for (const name of preset) {
            const set = outgoing.getHeader(name)
            outgoing.removeHeader(name)
            const values = (Array.isArray(set) ? set : [set]).filter((item) => item !== undefined).map(String)
            for (const item of name === 'vary' ? [mergeVary(upstreamVary, values)] : values)
              responseHeaders.push([name, item])
          }
        }
        // core spec, draft-httpauth-payment §Receipt Status Semantics: "Receipts are only issued on
        // successful payment responses (2xx status codes). Servers MUST NOT return a
        // `Payment-Receipt` header on error responses."
        if (request.receipt && status >= 200 && status < 300) {
          const cacheControl = upstreamResponse.headers['cache-control']
          const kept = responseHeaders.filter(([name]) => name.toLowerCase() !== 'cache-control')
          kept.push(['Payment-Receipt', request.receipt], ['Cache-Control', privateCacheControl(cacheControl)])
          outgoing.writeHead(status, kept.flat())
        } else {
          outgoing.writeHead(status, responseHeaders.flat())
        }
        // A streamed response (no length: SSE, chunked) shows its headers at once rather than with
        // the first chunk; a sized one sends headers and body together, saving a write.
        if (upstreamResponse.headers['content-length'] === undefined) outgoing.flushHeaders()
        const delivery = request.trackDelivery ? trackDelivery(incoming, upstreamResponse, outgoing) : undefined
        upstreamResponse.pipe(outgoing)
        upstreamResponse.on('error', () => outgoing.destroy())
        resolve(delivery ? { ok: true, status, delivery } : { ok: true, status })
      })

      // A client that goes away takes its upstream request with it.
      outgoing.on('close', () => {
        if (!outgoing.writableFinished) upstreamRequest.destroy()
      })

      if (body !== undefined) upstreamRequest.end(body)
      else if (framing === 'none') upstreamRequest.end()
      else incoming.pipe(upstreamRequest)
    })
  }

  return {
    forward,
    close: () => agent.destroy(),
  }
}

/**
 * Settles when the client's response is over: `complete` when the upstream's body ended in full and
 * reached the client, `cut` when the upstream stopped short (the client is cut off too, so it can
 * tell), `client-gone` when the client left first.
 */
function trackDelivery(
  incoming: IncomingMessage,
  upstreamResponse: IncomingMessage,
  outgoing: ServerResponse,
): Promise<Delivery> {
  const length = upstreamResponse.headers['content-length']
  const status = upstreamResponse.statusCode ?? 0
  const hasBody = incoming.method !== 'HEAD' && status !== 204 && status !== 304
  const bytesExpected = hasBody && length !== undefined ? Number(length) : undefined
  let bytesSent = 0
  let cut = false
  upstreamResponse.on('data', (chunk: Buffer) => {
    bytesSent += chunk.length
  })
  const onCut = () => {
    cut = true
  }
  upstreamResponse.once('aborted', onCut)
  upstreamResponse.once('error', onCut)
  return new Promise((resolve) => {
    outgoing.once('close', () => {
      const end = upstreamResponse.complete && outgoing.writableFinished ? 'complete' : cut ? 'cut' : 'client-gone'
      resolve(bytesExpected === undefined ? { end, bytesSent } : { end, bytesSent, bytesExpected })
    })
  })
}
