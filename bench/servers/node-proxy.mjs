// Path 1b: the plainest keep-alive reverse proxy node:http allows, the limit of one Node process.
import http from 'node:http'

const target = new URL(process.env.UPSTREAM_URL)
const agent = new http.Agent({ keepAlive: true, maxSockets: 512 })
const server = http.createServer((req, res) => {
  const upstream = http.request(
    {
      agent,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: target.host },
    },
    (response) => {
      res.writeHead(response.statusCode ?? 502, response.headers)
      response.pipe(res)
    },
  )
  upstream.on('error', () => res.destroy())
  req.pipe(upstream)
})
server.keepAliveTimeout = 65_000
server.listen(Number(process.env.PORT), '127.0.0.1', () =>
  process.send?.({ url: `http://127.0.0.1:${server.address().port}` }),
)
