import net from 'node:net'
import type { AddressInfo } from 'node:net'

/** One HTTP/1.1 request as the upstream's own parser read it off the wire. */
export interface WireRequest {
  /** which upstream TCP connection it came on (1, 2, ...): pooled requests share one */
  connection: number
  method: string
  target: string
  /** [name, value] as received */
  headers: Array<[string, string]>
  /** the decoded body (chunked framing removed) */
  body: string
  /** how the body was framed: a Content-Length, chunked, or neither */
  framing: 'length' | 'chunked' | 'none'
}

export interface RawUpstream {
  url: string
  /** every request parsed, in order */
  requests: WireRequest[]
  /** every byte each connection sent, for failure messages */
  bytes(connection: number): string
  /** the value of a header of a recorded request (first line, case-insensitive) */
  header(request: WireRequest, name: string): string | undefined
  close(): Promise<void>
}

/**
 * A byte-level upstream: it parses HTTP/1.1 requests off each connection itself, as a plain
 * keep-alive server would (Content-Length, chunked, else no body), and answers every request it
 * parses, in order, with a JSON document naming that request. Whatever the gateway writes after a
 * request's end is parsed as the next request, so a body sent without framing shows up as one.
 * `responseDelayMs` holds each answer back, so an extra answer is still unread on the pooled
 * socket when the gateway reuses it for the next client.
 */
export async function startRawUpstream(options: { responseDelayMs?: number } = {}): Promise<RawUpstream> {
  const requests: WireRequest[] = []
  const received = new Map<number, Buffer[]>()
  const sockets = new Set<net.Socket>()
  let connections = 0
  const server = net.createServer((socket) => {
    const connection = ++connections
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    received.set(connection, [])
    let buffer = Buffer.alloc(0)
    let answering = Promise.resolve()
    socket.on('data', (chunk: Buffer) => {
      received.get(connection)!.push(chunk)
      buffer = Buffer.concat([buffer, chunk])
      for (;;) {
        const parsed = parseRequest(buffer)
        if (parsed === 'incomplete') return
        if (parsed === 'invalid') {
          requests.push({
            connection,
            method: '<invalid>',
            target: buffer.toString('latin1').slice(0, 80),
            headers: [],
            body: '',
            framing: 'none',
          })
          socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
          return
        }
        buffer = buffer.subarray(parsed.consumed)
        const request = { connection, ...parsed.request }
        requests.push(request)
        const seq = requests.length
        answering = answering.then(async () => {
          if (options.responseDelayMs) await new Promise((r) => setTimeout(r, options.responseDelayMs))
          const payload = JSON.stringify({ seq, method: request.method, target: request.target })
          const head = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nX-Upstream-Seq: ${seq}\r\n\r\n`
          if (!socket.destroyed) socket.write(request.method === 'HEAD' ? head : head + payload)
        })
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    bytes: (connection) => Buffer.concat(received.get(connection) ?? []).toString('latin1'),
    header: (request, name) => request.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1],
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

type Parsed = 'incomplete' | 'invalid' | { consumed: number; request: Omit<WireRequest, 'connection'> }

function parseRequest(buffer: Buffer): Parsed {
  const headEnd = buffer.indexOf('\r\n\r\n')
  if (headEnd === -1) return buffer.length > 64 * 1024 ? 'invalid' : 'incomplete'
  const lines = buffer.subarray(0, headEnd).toString('latin1').split('\r\n')
  const start = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(lines[0]!)
  if (!start) return 'invalid'
  const headers: Array<[string, string]> = []
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon <= 0) return 'invalid'
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()])
  }
  const values = (name: string) => headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v)
  const te = values('transfer-encoding')
  const cl = values('content-length')
  // A plain server's rules: both framings, or two lengths, are refused rather than guessed at.
  if ((te.length > 0 && cl.length > 0) || cl.length > 1 || te.length > 1) return 'invalid'
  let offset = headEnd + 4
  const request = { method: start[1]!, target: start[2]!, headers }
  if (te.length === 1) {
    if (te[0]!.toLowerCase() !== 'chunked') return 'invalid'
    const chunks: Buffer[] = []
    for (;;) {
      const lineEnd = buffer.indexOf('\r\n', offset)
      if (lineEnd === -1) return 'incomplete'
      const size = Number.parseInt(buffer.subarray(offset, lineEnd).toString('latin1').split(';')[0]!, 16)
      if (Number.isNaN(size)) return 'invalid'
      offset = lineEnd + 2
      if (size === 0) {
        const trailerEnd = buffer.indexOf('\r\n\r\n', offset - 2)
        if (trailerEnd === -1) return 'incomplete'
        return {
          consumed: trailerEnd + 4,
          request: { ...request, body: Buffer.concat(chunks).toString('latin1'), framing: 'chunked' },
        }
      }
      if (buffer.length < offset + size + 2) return 'incomplete'
      chunks.push(buffer.subarray(offset, offset + size))
      offset += size + 2
    }
  }
  if (cl.length === 1) {
    if (!/^\d+$/.test(cl[0]!)) return 'invalid'
    const length = Number(cl[0])
    if (buffer.length < offset + length) return 'incomplete'
    return {
      consumed: offset + length,
      request: { ...request, body: buffer.subarray(offset, offset + length).toString('latin1'), framing: 'length' },
    }
  }
  return { consumed: offset, request: { ...request, body: '', framing: 'none' } }
}

/** Writes raw bytes to a server and resolves with everything it answered once it closes the connection. */
export function rawExchange(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(bytes, 'latin1'))
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('end', () => socket.end())
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
    socket.on('error', reject)
  })
}
