// Path 1c: the plainest keep-alive reverse proxy an undici Pool allows, the client the gateway forwards with.
import http from 'node:http'
import { Pool } from 'undici'

const target = new URL(process.env.UPSTREAM_URL)
const pool = new Pool(target.origin, { connections: 512 })
// undici refuses these request headers (it frames and manages the connection itself)
const OWN = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect'])
const server = http.createServer((req, res) => {
  const headers = Object.entries(req.headers).filter(([name]) => !OWN.has(name))
  const body = req.headers['content-length'] || req.headers['transfer-encoding'] ? req : null
  pool.stream(
    { method: req.method, path: req.url, headers: headers.flat(), body },
    ({ statusCode, headers: responseHeaders }) => res.writeHead(statusCode, responseHeaders),
    (error) => error && res.destroy(),
  )
})
server.keepAliveTimeout = 65_000
server.listen(Number(process.env.PORT), '127.0.0.1', () =>
  process.send?.({ url: `http://127.0.0.1:${server.address().port}` }),
)
