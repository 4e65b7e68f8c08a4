import type { HttpBindings } from '@hono/node-server'
import type { Context } from 'hono'
import type { RequestRecord } from './request-record.js'

/**
 * The gateway's Hono env: the Node request and response, and what the prelude middleware found.
 * Read the variables with `c.get`: `c.var` copies them all into a new object on every read.
 */
export interface GatewayEnv {
  Bindings: HttpBindings
  Variables: {
    /** what this request did, logged and counted once the response is done */
    record: RequestRecord
    /** the canonical path: what routes match */
    path: string
    /** the canonical path and the query as received: what goes upstream */
    pathAndQuery: string
  }
}

/**
 * Answers one request whose path is already canonical. Handlers write to `c.env.outgoing` through
 * Node streams and return `RESPONSE_ALREADY_SENT`, so no Web Response is built on the way.
 */
export type RouteHandler = (c: Context<GatewayEnv>) => Response | Promise<Response>
