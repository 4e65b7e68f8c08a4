import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import type { GatewayContext } from './context.js'
import { sendJson } from './respond.js'
import type { RouteHandler } from './route-handler.js'

/**
 * `/__gateway/healthz`: the process answers. `/__gateway/readyz`: not shutting down, and the store
 * and every payment backend with a probe answer, so an orchestrator routes no traffic to a replica
 * that would only fail closed.
 */
export function healthHandlers(ctx: GatewayContext): Record<string, RouteHandler> {
  const methodProbes = [...ctx.methods.values()].flatMap((method) =>
    method.ping ? [{ name: method.name, ping: sharedFor(PROBE_TTL_MS, method.ping) }] : [],
  )
  return {
    '/__gateway/healthz': (c) => {
      sendJson(c.env.outgoing, 200, { status: 'ok' })
      return RESPONSE_ALREADY_SENT
    },
    '/__gateway/readyz': async (c) => {
      const { outgoing } = c.env
      // Shutting down: tell the orchestrator at once, before connections start being refused.
      if (ctx.lifecycle.draining) {
        sendJson(outgoing, 503, { status: 'draining' })
        return RESPONSE_ALREADY_SENT
      }
      const checks: Record<string, string> = {}
      const probe = async (name: string, ping: () => Promise<void>) => {
        try {
          await ping()
          checks[name] = 'ok'
        } catch (error) {
          checks[name] = `unavailable: ${(error as Error).message}`
        }
      }
      await Promise.all([
        probe('store', () => ctx.store.ping()),
        ...methodProbes.map(({ name, ping }) => probe(name, ping)),
      ])
      const ready = Object.values(checks).every((v) => v === 'ok')
      sendJson(outgoing, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks })
      return RESPONSE_ALREADY_SENT
    },
  }
}

/**
 * Readiness is on the public port and may be polled by anyone: a payment backend's probe (a Stripe
 * or RPC call) runs at most once per this long, and concurrent polls share it. The store's PING
 * is local and cheap, so it runs on every poll.
 */
const PROBE_TTL_MS = 2_000

/** `run`, called at most once per `ttlMs`; calls in between get the last call's promise. */
function sharedFor(ttlMs: number, run: () => Promise<void>): () => Promise<void> {
  let last: { at: number; result: Promise<void> } | undefined
  return () => {
    const at = performance.now()
    if (!last || at - last.at >= ttlMs) {
      const result = run()
      // callers await it; this only keeps a failure nobody awaits from being unhandled
      result.catch(() => {})
      last = { at, result }
    }
    return last.result
  }
}
