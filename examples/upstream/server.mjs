// The example upstream: a tiny JSON API that knows nothing about payments. mpp-gateway sits in
// front of it and puts prices on its routes: the jokes for ../gateway.config.yaml, the OpenAI-like
// routes for the repository's sample gateway.config.yaml (`upstream.url: "example"`). No dependencies:
//
//   node examples/upstream/server.mjs            # listens on 0.0.0.0:3000 (PORT and HOST override)
//
// `npm run demo` imports startExampleApi() from here and runs it on a random local port.
import http from 'node:http'
import { pathToFileURL } from 'node:url'

const JOKES = [
  { setup: 'Why did the API return 402?', punchline: 'It wanted to get paid before it told you anything.' },
  { setup: 'How does a robot pay for coffee?', punchline: 'With a machine payment, one cent at a time.' },
  { setup: 'Why do proxies make good friends?', punchline: 'They always forward your messages.' },
  { setup: 'What did the receipt say to the request?', punchline: 'I have your back(end).' },
]

/** @param {http.ServerResponse} res @param {number} status @param {unknown} body */
function sendJson(res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

/** @param {http.IncomingMessage} req @returns {Promise<string>} */
function readBody(req) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > 1_048_576) req.destroy(new Error('body too large'))
      else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** @param {string} text @returns {unknown} */
function safeJson(text) {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://upstream.invalid')
  const route = `${req.method} ${url.pathname}`
  if (route === 'GET /v1/health' || route === 'HEAD /v1/health') return sendJson(res, 200, { status: 'ok' })
  if (route === 'GET /v1/joke' || route === 'HEAD /v1/joke') {
    const id = Math.floor(Math.random() * JOKES.length)
    return sendJson(res, 200, { id, ...JOKES[id] })
  }
  const byId = /^\/v1\/jokes\/(\d+)$/.exec(url.pathname)
  if (byId && req.method === 'GET') {
    const id = Number(byId[1])
    const joke = JOKES[id]
    return joke ? sendJson(res, 200, { id, ...joke }) : sendJson(res, 404, { error: 'no such joke' })
  }
  if (route === 'POST /v1/summarize') {
    const text = await readBody(req)
    /** @type {unknown} */
    let input
    try {
      input = JSON.parse(text)
    } catch {
      return sendJson(res, 400, { error: 'expected a JSON body {"text": "..."}' })
    }
    const source = typeof input === 'object' && input !== null && 'text' in input && typeof input.text === 'string' ? input.text : ''
    const words = source.split(/\s+/).filter(Boolean)
    return sendJson(res, 200, { words: words.length, summary: words.slice(0, 12).join(' ') + (words.length > 12 ? ' …' : '') })
  }
  // The OpenAI-like API the repository's sample config prices.
  if (route === 'GET /v1/models') return sendJson(res, 200, { object: 'list', data: [{ id: 'example-small', object: 'model', owned_by: 'example' }] })
  if (route === 'POST /v1/chat/completions') {
    const text = await readBody(req)
    const model = /** @type {{ model?: unknown }} */ (safeJson(text) ?? {}).model
    const joke = JOKES[Math.floor(Math.random() * JOKES.length)]
    return sendJson(res, 200, {
      object: 'chat.completion',
      model: typeof model === 'string' ? model : 'example-small',
      choices: [{ index: 0, message: { role: 'assistant', content: `${joke?.setup} ${joke?.punchline}` }, finish_reason: 'stop' }],
    })
  }
  const report = /^\/v1\/reports\/([^/]+)$/.exec(url.pathname)
  if (report && req.method === 'GET') return sendJson(res, 200, { id: report[1], status: 'ready', rows: 3 })
  if (url.pathname.startsWith('/public/')) return sendJson(res, 200, { public: true, path: url.pathname })
  return sendJson(res, 404, { error: 'not found', path: url.pathname })
}

/**
 * Starts the example API.
 * @param {{ port?: number, host?: string }} [options] port 0 picks a free one
 * @returns {Promise<{ url: string, server: http.Server, close(): Promise<void> }>}
 */
export async function startExampleApi(options = {}) {
  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(error instanceof Error ? error.message : error) })
      else res.destroy()
    })
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 3000, options.host ?? '0.0.0.0', () => resolve(undefined))
  })
  const address = /** @type {import('node:net').AddressInfo} */ (server.address())
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

// Run directly (node server.mjs, or as a container's command): listen until SIGTERM/SIGINT.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const api = await startExampleApi({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '0.0.0.0' })
  process.stdout.write(`${JSON.stringify({ msg: 'example api listening', url: api.url })}\n`)
  // As PID 1 in a container, node has no default signal handlers: stop cleanly ourselves.
  for (const signal of /** @type {const} */ (['SIGTERM', 'SIGINT'])) {
    process.once(signal, () => {
      void api.close().then(() => process.exit(0))
    })
  }
}
