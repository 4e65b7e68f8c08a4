import type { RequestListener } from 'node:http'
import { getRequestListener, type HttpBindings, RequestError } from '@hono/node-server'
import type { Hono } from 'hono'

/**
 * Stands in for the Web Request of a request target @hono/node-server refuses to turn into a URL
 * (`*`, a backslash in the path, a Host header that names no host). The gateway's apps read the
 * request from `c.env.incoming` only, so such a request still gets the gateway's own answer (a
 * 400 bad-path problem, or forwarding as usual for an odd Host) instead of node-server's bare 400.
 */
const PLACEHOLDER_REQUEST = new Request('http://localhost/')

/**
 * The app as a node:http listener, served by @hono/node-server without replacing the global
 * Request and Response and without its body clean-up (the gateway decides what happens to an
 * unread body). node-server's Request is lazy: nothing Web-shaped is built unless read.
 */
export function nodeListener<E extends { Bindings: HttpBindings }>(app: Hono<E>): RequestListener {
  // node-server calls errorHandler synchronously, within the listener call below, and without
  // the Node objects: this is the request it failed on.
  let current: HttpBindings | undefined
  const listener = getRequestListener(app.fetch, {
    overrideGlobalObjects: false,
    autoCleanupIncoming: false,
    hostname: 'localhost',
    errorHandler: (error) => {
      const bindings = current
      // Anything else would be the app throwing synchronously, which Hono's onError prevents.
      if (!(error instanceof RequestError) || !bindings) return new Response(null, { status: 500 })
      return app.fetch(PLACEHOLDER_REQUEST, bindings)
    },
  })
  return (incoming, outgoing) => {
    current = { incoming, outgoing }
    try {
      void listener(incoming, outgoing)
    } finally {
      current = undefined
    }
  }
}
