import http from 'node:http'

export interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  /** flat [name, value, name, value, ...] as received, so repeated header lines stay visible */
  rawHeaders: string[]
  body: string
}

export interface RawRequestOptions {
  method?: string
  /** an array value is sent as several header lines */
  headers?: Record<string, string | string[]>
  body?: string | Buffer
  agent?: http.Agent
}

/**
 * One HTTP/1.1 request with node:http, keeping repeated header lines apart (fetch would fold them).
 * The path after the origin is sent exactly as written: no client-side dot-segment resolution or
 * re-encoding, so tests can send the spellings an attacker would.
 */
export function request(url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  const origin = /^http:\/\/[^/]+/.exec(url)![0]
  const { hostname, port } = new URL(origin)
  const path = url.slice(origin.length) || '/'
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        hostname,
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: options.agent ?? false,
      },
      (res) => void readResponse(res).then(resolve, reject),
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

/** A response read to its end, its header lines kept apart. */
export function readResponse(res: http.IncomingMessage): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    res.on('data', (c: Buffer) => chunks.push(c))
    res.on('end', () =>
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        rawHeaders: res.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
      }),
    )
    res.on('error', reject)
  })
}

/** Every value of a header, one per line as received. */
export function headerLines(response: RawResponse, name: string): string[] {
  const lines: string[] = []
  for (let i = 0; i < response.rawHeaders.length; i += 2) {
    if (response.rawHeaders[i]!.toLowerCase() === name.toLowerCase()) lines.push(response.rawHeaders[i + 1]!)
  }
  return lines
}
