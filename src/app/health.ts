import type { HttpBindings } from '@hono/node-server'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import type { Hono } from 'hono'
import type { GatewayContext } from './context.js'
import { sendJson } from './respond.js'

/**
 * `/__gateway/healthz`: the process answers. `/__gateway/readyz`: config loaded and the store and
 * every payment backend with a probe answer, so an orchestrator routes no traffic to a replica
 * that would only fail closed.
 */
export function registerHealth(app: Hono<{ Bindings: HttpBindings }>, ctx: GatewayContext): void {
  app.get('/__gateway/healthz', (c) => {
    sendJson(c.env.outgoing, 200, { status: 'ok' })
    return RESPONSE_ALREADY_SENT
  })
  app.get('/__gateway/readyz', async (c) => {
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
    sendJson(c.env.outgoing, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks })
    return RESPONSE_ALREADY_SENT
  })
}
