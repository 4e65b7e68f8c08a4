import net from 'node:net'

/** A raw TCP client that writes what it is told, when it is told: for stalled and trickled requests. */
export interface SlowClient {
  readonly socket: net.Socket
  write(data: string | Buffer): void
  /** everything received so far, as latin1 text */
  received(): string
  /** resolves once the server has closed the connection (or it failed), with everything received */
  readonly closed: Promise<string>
  /** ms from connecting to the server closing the connection; undefined while open */
  closedAfterMs(): number | undefined
  destroy(): void
}

export function connectSlow(url: string): Promise<SlowClient> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname)
    const chunks: Buffer[] = []
    const startedAt = performance.now()
    let closedAt: number | undefined
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    const received = () => Buffer.concat(chunks).toString('latin1')
    const closed = new Promise<string>((done) => {
      socket.once('close', () => {
        closedAt ??= performance.now()
        done(received())
      })
    })
    // a reset after the server's answer is a close like any other here
    socket.on('error', () => {})
    socket.once('connect', () => {
      socket.off('error', reject)
      resolve({
        socket,
        write: (data) => void socket.write(data),
        received,
        closed,
        closedAfterMs: () => (closedAt === undefined ? undefined : closedAt - startedAt),
        destroy: () => socket.destroy(),
      })
    })
    socket.once('error', reject)
  })
}

/** Resolves with the value, or with `fallback` once `ms` have passed. */
export function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms)
    void promise.then((value) => {
      clearTimeout(timer)
      resolve(value)
    })
  })
}

/** The status code and parsed JSON body of the one HTTP/1.1 response in `raw`. */
export function parseRawResponse(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n')
  const head = end === -1 ? raw : raw.slice(0, end)
  const [statusLine, ...lines] = head.split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0),
    headers,
    body: end === -1 ? '' : raw.slice(end + 4),
  }
}
