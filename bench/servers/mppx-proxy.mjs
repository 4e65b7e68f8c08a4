// Path 3: the mppx Proxy (mppx/proxy) with one free route, served by its Node listener.
// mppx matches routes with URLPattern, which Node 20 lacks.
import 'urlpattern-polyfill'
import http from 'node:http'
import { Proxy as MppxProxy, Service } from 'mppx/proxy'

const proxy = MppxProxy.create({
  services: [Service.from('api', { baseUrl: process.env.UPSTREAM_URL, routes: { 'GET /v1/models': true } })],
})
const server = http.createServer(proxy.listener)
server.keepAliveTimeout = 65_000
server.listen(Number(process.env.PORT), '127.0.0.1', () =>
  process.send?.({ url: `http://127.0.0.1:${server.address().port}` }),
)
