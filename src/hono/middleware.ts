import type { MiddlewareHandler } from 'hono'
import { canonicalizePath } from '../http/canonical-path.js'
import { type Env, loadConfig } from '../config/load.js'
import type { GatewayConfig } from '../config/types.js'
import { type RespondDecision, countAll, receiptHeaders, shadowOutcomeOf } from '../core/index.js'
import type { ProblemResponse } from '../core/decision.js'
import { badPathProblem, bodyTooLargeProblem, problemResponse } from '../core/respond.js'
import { createLogger, type Logger } from '../log/logger.js'
import type { Problem } from '../protocol/problem.js'
import { type ClientIpResolver, createClientIpResolver } from '../http/client-ip.js'
import type { LedgerEntry } from '../store/types.js'
import { buildPayments, type Payments } from './payments.js'
import { readWebBody } from './web-body.js'

export interface MppGatewayOptions {
  /** the gateway's YAML file, or a config `loadConfig` already returned */
  readonly config: string | GatewayConfig
  /** where the YAML's `${VAR}` come from; defaults to process.env */
  readonly env?: Env
  /** defaults to JSON lines on stdout at the config's `log.level` */
  readonly logger?: Logger
  /** unix ms; defaults to Date.now */
  readonly now?: () => number
}

/** The middleware, with a handle on what it holds open. */
export interface MppGateway extends MiddlewareHandler {
  /** Resolves once the config is loaded and the store and methods are built; rejects with every config error. */
  readonly ready: Promise<void>
  /** The payment ledger, oldest first (what the sidecar's store holds too). */
  ledger(limit?: number): Promise<LedgerEntry[]>
  /**
   * Reports settlement records left unfinished (an error line each, `settlement left unfinished`, and the counter);
   * resolves with how many. The sidecar runs this every 15 s; an app runs it on its own timer.
   */
  sweep(): Promise<number>
  /** Prometheus text: the payment counters the sidecar exposes on its admin listener. */
  metrics(): Promise<string>
  /** Releases the store connection and the methods' background work; later requests fail. */
  close(): Promise<void>
}

/**
 * Charges for the routes of a gateway config inside a Hono app, with no proxy hop: a priced route
 * is answered 402 until a payment settles, then the app's own handler runs, without the
 * credential. Free routes and paths no route matches pass straight through. Matching, prices,
 * store and methods are the sidecar's, so one YAML serves either door.
 */
export function mppGateway(options: MppGatewayOptions): MppGateway {
  const now = options.now ?? Date.now
  const built = (async () => {
    const config = typeof options.config === 'string' ? await load(options.config, options.env) : options.config
    const logger = options.logger ?? createLogger({ level: config.logLevel })
    const payments = await buildPayments(config, { logger, now })
    return { payments, clientIpOf: createClientIpResolver(config.trustedProxies) }
  })()
  const ready = built.then(() => {})
  // A config error surfaces through `ready` and on every request; it must not also crash the process.
  ready.catch(() => {})
  let closed: Promise<void> | undefined

  const middleware: MiddlewareHandler = async (c, next) => {
    if (closed) throw new Error('mppGateway: closed')
    const { payments, clientIpOf } = await built
    const { core, routes } = payments
    const raw = c.req.raw
    // The sidecar's rule: route one canonical spelling, so no other spelling of a priced path is free.
    const canonical = canonicalizePath(rawPath(raw.url))
    if (!canonical.ok) return problem(badPathProblem(canonical.reason))
    const route = routes.match(raw.method, canonical.path)
    if (!route || route.route.price.kind === 'free') return next()
    if (route.route.mode === 'shadow') {
      countAll(payments.metrics, shadowOutcomeOf(route).counts)
      return next()
    }

    const unpayable = core.precheck(route)
    if (unpayable) return answer(payments, unpayable)
    const { maxBodyBytes } = route.route
    const read = raw.bodyUsed
      ? { ok: true as const, body: nonEmpty(new Uint8Array(await c.req.arrayBuffer())) }
      : await readWebBody(raw, maxBodyBytes)
    if (!read.ok || (read.body?.byteLength ?? 0) > maxBodyBytes) return problem(bodyTooLargeProblem(maxBodyBytes))
    const { body } = read

    const decision = await core.handle({
      method: raw.method,
      path: canonical.path,
      route,
      headers: Object.fromEntries(raw.headers),
      body,
      clientIp: peerOf(clientIpOf, c.env),
    })
    if (decision.kind === 'respond') return answer(payments, decision)
    countAll(payments.metrics, decision.outcome.counts)
    if (raw.signal?.aborted) {
      // The payer left while it was settling: the record goes back to `paid`, for it to come back.
      const committed = await decision.commit({ outcome: 'client-gone', upstreamStatus: 0 })
      countAll(payments.metrics, committed.counts)
      return c.body(null, 503)
    }

    // The app sees the request without the credential, with the receipt (as the sidecar's upstream does),
    // and with a body it can still read.
    const headers = new Headers(raw.headers)
    headers.delete('authorization')
    if (decision.authorization !== undefined) headers.set('authorization', decision.authorization)
    headers.set('payment-receipt', decision.receipt)
    c.req.raw = new Request(raw.url, {
      method: raw.method,
      headers,
      signal: raw.signal,
      // A GET or HEAD may carry a body the digest covers, but a Web Request cannot hold one.
      ...(body && raw.method !== 'GET' && raw.method !== 'HEAD' ? { body: body.slice() } : {}),
    })
    try {
      await next()
    } finally {
      // A handler that throws without an onError never produced a response: recorded as status 500.
      const status = c.finalized ? c.res.status : 500
      const served = status >= 200 && status <= 299
      const receipt = receiptHeaders(status, decision.receipt, c.res.headers.get('cache-control') ?? undefined)
      if (receipt.length > 0) c.res = withHeaders(c.res, receipt)
      const committed = await decision.commit({ outcome: served ? 'served' : 'upstream-error', upstreamStatus: status })
      countAll(payments.metrics, committed.counts)
    }
  }

  const close = (): Promise<void> => {
    closed ??= built.then(
      ({ payments }) => payments.close(),
      () => {},
    )
    return closed
  }

  return Object.assign(middleware, {
    ready,
    ledger: async (limit?: number) => (await built).payments.store.ledger(limit),
    sweep: async () => {
      const { payments } = await built
      const counts = await payments.core.sweep()
      countAll(payments.metrics, counts)
      return counts.length
    },
    metrics: async () => (await built).payments.metrics.render(),
    close,
  })
}

async function load(file: string, env: Env | undefined): Promise<GatewayConfig> {
  const loaded = await loadConfig(file, env ? { env } : {})
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'))
  return loaded.config
}

/** The path as the client sent it (no decoding), as the sidecar reads it from the request line. */
function rawPath(url: string): string {
  const start = url.indexOf('/', url.indexOf('://') + 3)
  if (start === -1) return '/'
  const end = url.slice(start).search(/[?#]/)
  return end === -1 ? url.slice(start) : url.slice(start, start + end)
}

function nonEmpty(body: Uint8Array): Uint8Array | undefined {
  return body.byteLength > 0 ? body : undefined
}

/** Under @hono/node-server the peer is the socket's; elsewhere (app.request) there is none. */
function peerOf(resolve: ClientIpResolver, env: unknown): string {
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: string }; headers?: Record<string, unknown> } })
    ?.incoming
  const forwardedFor = incoming?.headers?.['x-forwarded-for']
  return resolve(incoming?.socket?.remoteAddress, typeof forwardedFor === 'string' ? forwardedFor : undefined)
}

function answer(payments: Payments, decision: RespondDecision): Response {
  countAll(payments.metrics, decision.outcome.counts)
  return toResponse(decision)
}

function problem(p: Problem): Response {
  return toResponse(problemResponse(p))
}

/** Each challenge is its own `WWW-Authenticate` value; a fetch client reads them joined, as it reads any list. */
function toResponse({ status, headers, body }: ProblemResponse): Response {
  const list = new Headers()
  for (const [name, value] of Object.entries(headers))
    for (const line of typeof value === 'string' ? [value] : value) list.append(name, line)
  return new Response(body, { status, headers: list })
}

/** Sets headers on a response, copying it first when its headers are immutable (a fetched Response). */
function withHeaders(response: Response, set: ReadonlyArray<readonly [string, string]>): Response {
  try {
    for (const [name, value] of set) response.headers.set(name, value)
    return response
  } catch {
    const copy = new Response(response.body, response)
    for (const [name, value] of set) copy.headers.set(name, value)
    return copy
  }
}
