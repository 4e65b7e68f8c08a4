import type { GatewayContext } from './context.js'
import type { Handler } from './gateway.js'
import { sendJson } from './respond.js'

/**
 * `/__gateway/healthz`: the process answers. `/__gateway/readyz`: not shutting down, and the store
 * and every payment backend with a probe answer, so an orchestrator routes no traffic to a replica
 * that would only fail closed.
 */
export function healthHandlers(ctx: GatewayContext): Record<string, Handler> {
  return {
    '/__gateway/healthz': (_incoming, outgoing) => sendJson(outgoing, 200, { status: 'ok' }),
    '/__gateway/readyz': async (_incoming, outgoing) => {
      // Shutting down: tell the orchestrator at once, before connections start being refused.
      if (ctx.lifecycle.draining) return sendJson(outgoing, 503, { status: 'draining' })
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
        ...[...ctx.methods.values()].flatMap((method) => (method.ping ? [probe(method.name, () => method.ping!())] : [])),
      ])
      const ready = Object.values(checks).every((v) => v === 'ok')
      sendJson(outgoing, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks })
    },
  }
}
