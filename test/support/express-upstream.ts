import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { type FakeStripe, startFakeStripe } from './fake-stripe.js'
import { type TestGateway, startTestGateway } from './gateway.js'

export interface ExpressUpstream {
  url: string
  /** what reached Express, and which handler its own router picked */
  requests: Array<{ method: string; url: string; handler: string }>
  close(): Promise<void>
}

/**
 * A stock Express 5 app (default settings: case-insensitive, non-strict routing) with a handler per
 * gateway route pattern and a catch-all, so its router is the oracle for which handler a spelling
 * reaches. Each handler answers `{ handler }` and an `X-Handler` header (for HEAD): the gateway
 * `match` it stands for, or "catch-all".
 */
export async function startExpressUpstream(matches: readonly string[]): Promise<ExpressUpstream> {
  const app = express()
  const requests: ExpressUpstream['requests'] = []
  for (const match of matches) {
    const [method, path] = match.split(' ') as [string, string]
    // Hono's "/a/*" also matches "/a"; Express 5 spells that "/a{/*splat}".
    const pattern = path.endsWith('/*') ? `${path.slice(0, -2)}{/*splat}` : path
    const verb =
      method === '*'
        ? 'all'
        : (method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head' | 'options')
    app[verb](pattern, (req, res) => {
      requests.push({ method: req.method, url: req.originalUrl, handler: match })
      res.set('x-handler', match).json({ handler: match })
    })
  }
  app.all('/{*rest}', (req, res) => {
    requests.push({ method: req.method, url: req.originalUrl, handler: 'catch-all' })
    res.set('x-handler', 'catch-all').json({ handler: 'catch-all' })
  })
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface PricedBehindExpress {
  readonly stripe: FakeStripe
  readonly upstream: ExpressUpstream
  readonly gw: TestGateway
  close(): Promise<void>
}

/** The gateway pricing `priced` at 0.50 in front of a free `* /*`, with stock Express routing the same patterns upstream. */
export async function startPricedBehindExpress(priced: readonly string[]): Promise<PricedBehindExpress> {
  const stripe = await startFakeStripe()
  const upstream = await startExpressUpstream(priced)
  const gw = await startTestGateway({
    upstreamUrl: upstream.url,
    stripeUrl: stripe.url,
    routes: [...priced.map((match) => ({ match, price: '0.50' })), { match: '* /*', price: 'free' }],
  })
  return {
    stripe,
    upstream,
    gw,
    close: async () => {
      await gw.close()
      await upstream.close()
      await stripe.close()
    },
  }
}
