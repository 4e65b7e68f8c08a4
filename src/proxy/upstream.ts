import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { type Dispatcher, Pool } from 'undici'
import { requestFraming } from './framing.js'
import {
  asksForPayment,
  forwardableRequestHeaders,
  forwardableResponseHeaders,
  mergeVary,
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
  /** headers the gateway adds to the upstream request (a paid request's Payment-Receipt) */
  readonly requestHeaders?: ReadonlyArray<readonly [string, string]>
  /**
   * Headers the gateway adds to the upstream's response, each replacing the upstream's header of
   * that name, given the status and the upstream's Cache-Control (a paid 2xx gets its receipt).
   */
  readonly responseHeaders?: (
    status: number,
    upstreamCacheControl: string | undefined,
  ) => ReadonlyArray<readonly [string, string]>
  /** lower-cased request header names that must not go upstream (an access route's key header) */
  readonly dropRequestHeaders?: readonly string[]
  /** a 2xx response is held back until the gateway knows what to add to it (a granted key) */
  readonly hold?: ResponseHold
  /** called with the upstream's status just before its response is passed on */
  readonly onResponse?: (status: number) => void
  /** paid requests: the outcome then carries `delivery`, settled once the response is over */
  readonly trackDelivery?: boolean
}

/**
 * Holds a 2xx response back, its headers and up to `bodyBytes` of its body, until `headers` says
 * what to add to it. A body that ends within `bodyBytes` (and the upstream timeout) is handed over
 * whole; a longer or slower one is not (undefined), and is then streamed on as usual. The body
 * reaches the client unchanged either way. Other statuses are not held.
 */
export interface ResponseHold {
  /** 0: headers only (the body is never buffered) */
  readonly bodyBytes: number
  headers(
    status: number,
    upstreamHeaders: IncomingHttpHeaders,
    body: Buffer | undefined,
  ): Promise<ReadonlyArray<readonly [string, string]>>
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

/** A call whose whole answer the gateway reads itself (a validation request before charging). */
export interface ExchangeRequest {
  readonly incoming: IncomingMessage
  readonly method: string
  /** path (and query) relative to the upstream base path */
  readonly pathAndQuery: string
  readonly body?: Buffer
  readonly authorization?: string
  readonly clientIp: string
  /** the most of the answer's body read; a longer answer is a failure */
  readonly maxBodyBytes: number
}

export type ExchangeOutcome =
  | {
      readonly ok: true
      readonly status: number
      /** the answer's headers that may go back to a client, as the upstream wrote them */
      readonly headers: ReadonlyArray<readonly [string, string]>
      readonly body: Buffer
    }
  | { readonly ok: false; readonly failure: 'connect' | 'timeout' | 'too-large'; readonly message: string }

export interface Upstream {
  /**
   * Sends the request upstream and, once response headers arrive, streams the response to the
   * client. Resolves at that point with the status, or with the failure when nothing may be
   * relayed: no response (502/504), an upstream asking for payment (502), a transfer coding that
   * cannot be re-framed (501). The caller answers those; nothing has been written to the client.
   */
  forward(request: ForwardRequest): Promise<ForwardOutcome>
  /** Sends a request with the same forwarding headers and reads its whole answer, within the timeout. */
  exchange(request: ExchangeRequest): Promise<ExchangeOutcome>
  close(): void
}

/**
 * A pooled keep-alive HTTP(S) client for one upstream base URL: an undici `Pool`, driven through
 * `dispatch` so bytes go straight from its parser to the client's socket, with no stream between.
 */
export function createUpstream(base: URL, timeoutMs: number, stripRequestHeaders: readonly string[] = []): Upstream {
  const pool = new Pool(base.origin, {
    // as many upstream connections as the http.Agent allowed before it (maxSockets 512)
    connections: 512,
    // The gateway's own timer bounds the wait for response headers (504), queueing and connecting
    // included; a response body may take as long as it needs (SSE), as with node:http.
    headersTimeout: 0,
    bodyTimeout: 0,
    // A connection attempt that outlives the header timeout would turn a 504 into a 502.
    connectTimeout: timeoutMs + 1_000,
  })
  const basePath = base.pathname === '/' ? '' : base.pathname
  const hostHeader = base.host
  const stripped = strippedRequestHeaders(stripRequestHeaders)

  /** What goes upstream of the inbound headers, and the ones the gateway sets; framing apart. */
  function upstreamHeaders(
    request: Pick<ForwardRequest, 'incoming' | 'authorization' | 'requestHeaders' | 'clientIp' | 'dropRequestHeaders'>,
  ): Array<[string, string]> {
    const { incoming } = request
    const forwardable = forwardableRequestHeaders(incoming.rawHeaders, true, stripped)
    const dropped = request.dropRequestHeaders
    const headers =
      dropped && dropped.length > 0
        ? forwardable.filter(([name]) => !dropped.includes(name.toLowerCase()))
        : forwardable
    headers.push(['Host', hostHeader])
    if (request.authorization) headers.push(['Authorization', request.authorization])
    for (const [name, value] of request.requestHeaders ?? []) headers.push([name, value])
    headers.push(['X-Forwarded-For', request.clientIp])
    headers.push(['X-Forwarded-Proto', 'encrypted' in incoming.socket ? 'https' : 'http'])
    if (incoming.headers.host) headers.push(['X-Forwarded-Host', incoming.headers.host])
    return headers
  }

  async function exchange(request: ExchangeRequest): Promise<ExchangeOutcome> {
    const headers = upstreamHeaders(request)
    if (request.body !== undefined) headers.push(['Content-Length', String(request.body.length)])
    const signal = AbortSignal.timeout(timeoutMs)
    try {
      const answer = await pool.request({
        origin: base.origin,
        method: request.method as Dispatcher.HttpMethod,
        path: basePath + request.pathAndQuery,
        headers: headers.flat(),
        body: request.body ?? null,
        signal,
      })
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of answer.body as AsyncIterable<Buffer>) {
        size += chunk.length
        if (size > request.maxBodyBytes) {
          answer.body.destroy()
          return {
            ok: false,
            failure: 'too-large',
            message: `the upstream's answer is over ${request.maxBodyBytes} bytes`,
          }
        }
        chunks.push(chunk)
      }
      const raw = Object.entries(answer.headers).flatMap(([name, value]) =>
        (Array.isArray(value) ? value : value === undefined ? [] : [value]).flatMap((v) => [name, v]),
      )
      return {
        ok: true,
        status: answer.statusCode,
        headers: forwardableResponseHeaders(raw),
        body: Buffer.concat(chunks),
      }
    } catch (error) {
      if (signal.aborted)
        return { ok: false, failure: 'timeout', message: `no answer from the upstream within ${timeoutMs} ms` }
      return { ok: false, failure: 'connect', message: `upstream connection failed: ${(error as Error).message}` }
    }
  }

  function forward(request: ForwardRequest): Promise<ForwardOutcome> {
    const { incoming, outgoing, body } = request
    // The inbound framing headers never go upstream: the gateway frames what it sends itself, so a
    // body sent unframed (GET, HEAD, DELETE, OPTIONS) cannot become a second request on the pooled
    // upstream connection.
    const framing = body === undefined ? requestFraming(incoming.headers) : 'length'
    if (framing === 'unsupported') {
      return Promise.resolve({
        ok: false,
        failure: 'framing',
        message: `unsupported transfer coding ${JSON.stringify(incoming.headers['transfer-encoding'])}`,
      })
    }
    const headers = upstreamHeaders(request)
    if (body !== undefined) headers.push(['Content-Length', String(body.length)])
    else if (framing === 'length') headers.push(['Content-Length', incoming.headers['content-length']!])
    // chunked: undici chunks a stream body of unknown length itself, and refuses the header

    return new Promise((resolve) => {
      let settled = false
      let controller: Dispatcher.DispatchController | undefined
      // why the request was given up before undici started it (the client left, or the timer fired)
      let abandoned: Error | undefined
      // set once the response is being passed on: only then do upstream bytes go to the client
      let relaying = false
      let delivery: DeliveryCount | undefined
      // a held 2xx (request.hold): what arrived of it so far, until it is released
      let held: HeldResponse | undefined
      const abort = (reason: Error) => {
        if (controller) controller.abort(reason)
        else abandoned ??= reason
      }
      const timer = setTimeout(() => {
        if (settled) return
        settled = true
        abort(new Error('upstream timeout'))
        resolve({ ok: false, failure: 'timeout', message: `no response from the upstream within ${timeoutMs} ms` })
      }, timeoutMs)

      // A client that goes away takes its upstream request with it.
      outgoing.once('close', () => {
        if (!outgoing.writableFinished) abort(new Error('client gone'))
      })

      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(started) {
          controller = started
          if (abandoned) started.abort(abandoned)
        },
        onResponseStart(started, status, parsed) {
          // 1xx informational responses are not relayed (Node's server sent its own 100 Continue)
          if (status < 200) return
          clearTimeout(timer)
          if (settled) {
            started.abort(new Error('response after timeout'))
            return
          }
          settled = true
          request.onResponse?.(status)
          if (asksForPayment(status, parsed['www-authenticate'])) {
            // Only the gateway challenges: a client must never pay a challenge it did not issue.
            // The body is read and dropped, which keeps the connection for the next request.
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
            resolve({
              ok: true,
              status,
              ...(request.trackDelivery
                ? { delivery: Promise.resolve<Delivery>({ end: 'client-gone', bytesSent: 0 }) }
                : {}),
            })
            return
          }
          const rawHeaders = rawHeaderStrings(started.rawHeaders)
          let responseHeaders = forwardableResponseHeaders(rawHeaders)
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
          const length = parsed['content-length']
          const cacheControl = parsed['cache-control']
          const added =
            request.responseHeaders?.(status, Array.isArray(cacheControl) ? cacheControl.join(', ') : cacheControl) ??
            []
          // Writes the head, with the gateway's headers replacing the upstream's of the same name.
          const relay = (extra: ReadonlyArray<readonly [string, string]>) => {
            const all = extra.length > 0 ? [...added, ...extra] : added
            if (all.length > 0) {
              const replaced = new Set(all.map(([name]) => name.toLowerCase()))
              const kept = responseHeaders.filter(([name]) => !replaced.has(name.toLowerCase()))
              for (const [name, value] of all) kept.push([name, value])
              outgoing.writeHead(status, kept.flat())
            } else {
              outgoing.writeHead(status, responseHeaders.flat())
            }
            // A streamed response (no length: SSE, chunked) shows its headers at once rather than with
            // the first chunk; a sized one sends headers and body together, saving a write.
            if (length === undefined) outgoing.flushHeaders()
            relaying = true
            // Backpressure: undici stops reading the upstream socket while the client's is full.
            outgoing.on('drain', () => started.resume())
            if (request.trackDelivery) {
              delivery = deliveryCount(incoming.method, status, length)
              resolve({ ok: true, status, delivery: delivery.settle(outgoing) })
            } else resolve({ ok: true, status })
          }
          const hold = request.hold
          if (!hold || status < 200 || status >= 300) return relay([])
          const current: HeldResponse = { chunks: [], bytes: 0, ended: false, failed: false, releasing: false }
          held = current
          const release = async () => {
            if (current.releasing) return
            current.releasing = true
            clearTimeout(current.timer)
            const whole = current.ended && !current.failed
            const extra =
              current.failed || outgoing.destroyed
                ? []
                : await hold
                    .headers(status, parsed, whole && hold.bodyBytes > 0 ? Buffer.concat(current.chunks) : undefined)
                    .catch(() => [])
            held = undefined
            if (outgoing.destroyed) {
              resolve({
                ok: true,
                status,
                ...(request.trackDelivery
                  ? { delivery: Promise.resolve<Delivery>({ end: 'client-gone', bytesSent: 0 }) }
                  : {}),
              })
              return
            }
            relay(extra)
            for (const chunk of current.chunks) {
              if (delivery) delivery.bytesSent += chunk.length
              outgoing.write(chunk)
            }
            if (current.failed) {
              if (delivery) delivery.cut = true
              outgoing.destroy()
            } else if (current.ended) {
              if (delivery) delivery.complete = true
              outgoing.end()
            } else started.resume()
          }
          current.release = release
          if (hold.bodyBytes === 0) {
            // headers only: the body waits (paused) while the gateway decides
            started.pause()
            void release()
          } else current.timer = setTimeout(() => void release(), timeoutMs)
        },
        onResponseData(started, chunk) {
          if (held) {
            held.chunks.push(chunk)
            held.bytes += chunk.length
            if (!held.releasing && held.bytes > (request.hold?.bodyBytes ?? 0)) {
              started.pause()
              void held.release?.()
            }
            return
          }
          if (!relaying || outgoing.destroyed) return
          if (delivery) delivery.bytesSent += chunk.length
          if (!outgoing.write(chunk)) started.pause()
        },
        onResponseEnd() {
          if (held) {
            held.ended = true
            if (!held.releasing) void held.release?.()
            return
          }
          if (delivery) delivery.complete = true
          if (relaying && !outgoing.destroyed) outgoing.end()
        },
        onResponseError(_started, error) {
          clearTimeout(timer)
          if (settled && held) {
            held.failed = true
            if (!held.releasing) void held.release?.()
            return
          }
          if (settled) {
            // The response had started: all we can do is cut the client off too.
            if (!relaying || outgoing.destroyed) return
            if (delivery) delivery.cut = true
            outgoing.destroy()
            return
          }
          settled = true
          resolve({ ok: false, failure: 'connect', message: `upstream connection failed: ${error.message}` })
        },
      }

      pool.dispatch(
        {
          origin: base.origin,
          method: incoming.method ?? 'GET',
          path: basePath + request.pathAndQuery,
          headers: headers.flat(),
          body: body ?? (framing === 'none' ? null : incoming),
          // Keep the connection after a body on GET/HEAD/DELETE, as node:http did: the body is framed,
          // so the next request on it is safe (undici would close it by default).
          reset: false,
        },
        handler,
      )
    })
  }

  return {
    forward,
    exchange,
    close: () => void pool.destroy().catch(() => {}),
  }
}

/** undici hands raw headers as buffers; Node's `rawHeaders` are latin1 strings, which is what the rules read. */
function rawHeaderStrings(raw: Dispatcher.DispatchController['rawHeaders']): string[] {
  if (!Array.isArray(raw)) return []
  return raw.map((item: Buffer | string) => (typeof item === 'string' ? item : item.toString('latin1')))
}

/** A held 2xx: its body so far, and how it stands, until `release` relays it. */
interface HeldResponse {
  readonly chunks: Buffer[]
  bytes: number
  /** the upstream's body ended */
  ended: boolean
  /** the upstream connection failed before the body ended */
  failed: boolean
  releasing: boolean
  timer?: ReturnType<typeof setTimeout>
  release?: () => Promise<void>
}

interface DeliveryCount {
  bytesSent: number
  /** the upstream's body ended in full */
  complete: boolean
  /** the upstream stopped short */
  cut: boolean
  settle(outgoing: ServerResponse): Promise<Delivery>
}

/**
 * Counts a relayed response and settles when the client's response is over: `complete` when the
 * upstream's body ended in full and reached the client, `cut` when the upstream stopped short (the
 * client is cut off too, so it can tell), `client-gone` when the client left first.
 */
function deliveryCount(
  method: string | undefined,
  status: number,
  length: string | string[] | undefined,
): DeliveryCount {
  const hasBody = method !== 'HEAD' && status !== 204 && status !== 304
  const bytesExpected = hasBody && typeof length === 'string' ? Number(length) : undefined
  const count: DeliveryCount = {
    bytesSent: 0,
    complete: false,
    cut: false,
    settle: (outgoing) =>
      new Promise((resolve) => {
        outgoing.once('close', () => {
          const end = count.complete && outgoing.writableFinished ? 'complete' : count.cut ? 'cut' : 'client-gone'
          const { bytesSent } = count
          resolve(bytesExpected === undefined ? { end, bytesSent } : { end, bytesSent, bytesExpected })
        })
      }),
  }
  return count
}
