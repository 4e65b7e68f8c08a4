import type { ServerResponse } from 'node:http'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import type { GatewayContext } from './context.js'
import { buildLlmsTxt } from '../discovery/llms-txt.js'
import { buildOpenApi } from '../discovery/openapi.js'
import type { RouteHandler } from './route-handler.js'

/** Discovery documents change only with the config, and clients may cache them for five minutes. */
const CACHE_CONTROL = 'public, max-age=300'

/**
 * `/openapi.json` and `/llms.txt` (draft-payment-discovery), generated once per loaded config from
 * its route table, so a reload that changes a price changes them too.
 */
export function discoveryHandlers(ctx: GatewayContext): Record<string, RouteHandler> {
  const { openapiPath, llmsPath } = ctx.config.discovery
  const handlers: Record<string, RouteHandler> = {}
  if (openapiPath) {
    const body = JSON.stringify(buildOpenApi(ctx.config, ctx.offers, llmsPath ? { llmsUrl: llmsPath } : {}), null, 2)
    handlers[openapiPath] = (c) => send(c.env.outgoing, 'application/json', body)
  }
  if (llmsPath) {
    const body = buildLlmsTxt(ctx.config, ctx.offers, openapiPath ? { openapiPath } : {})
    handlers[llmsPath] = (c) => send(c.env.outgoing, 'text/markdown; charset=utf-8', body)
  }
  return handlers
}

function send(outgoing: ServerResponse, contentType: string, body: string): Response {
  outgoing.writeHead(200, {
    'Content-Type': contentType,
    'Cache-Control': CACHE_CONTROL,
    'Content-Length': Buffer.byteLength(body),
  })
  outgoing.end(body)
  return RESPONSE_ALREADY_SENT
}
