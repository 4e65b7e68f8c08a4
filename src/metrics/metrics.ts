import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client'

/**
 * Prometheus metrics for one gateway.
 *
 * Each `createMetrics()` has its own `Registry`, never prom-client's global default one: tests
 * start many gateways in one process, and a config reload or a second gateway must not see (or
 * collide with) another's counters.
 *
 * Cardinality: every label value is bounded by the configuration or by a fixed vocabulary — a
 * route's `match` string from the config ("GET /v1/reports/:id", never the concrete path with its
 * ids), "none" / "gateway", a payment method name, a currency from an offer, an HTTP status, a
 * problem-type slug, a backend name. Never put a client IP, a raw request path, a challenge id, a
 * payer address or anything else a client chooses into a label: each distinct value is a new time
 * series held in memory for the life of the process and in the TSDB after it. As a backstop for a
 * caller that labels with a client-supplied method name (the method echoed in a credential), the
 * `method` label accepts at most {@link MAX_METHOD_VALUES} distinct values per instance and maps
 * anything after that, or anything that is not a plausible method token, to "other".
 */
export interface GatewayMetrics {
  /** every finished request: route is the config `match` string ("GET /v1/cheap") or "none" / "gateway" for unmatched and the gateway's own endpoints */
  requestFinished(route: string, status: number): void
  /** mpp_challenges_issued_total{route,method}: one increment per element, i.e. per challenge sent */
  challengesIssued(route: string, methods: readonly string[]): void
  /** mpp_verifications_total{method,outcome}; outcome "success" or a problem type slug like "verification-failed", "invalid-challenge" */
  verification(method: string, outcome: string): void
  /** mpp_replays_rejected_total{method} */
  replayRejected(method: string): void
  /**
   * mpp_revenue_base_units_total{route,method,currency} += BigInt(baseUnits). baseUnits must be a
   * non-negative decimal integer string; anything else is ignored (recording never throws). The
   * total is kept exactly as a bigint; see {@link createMetrics} for how it is exported.
   */
  settled(route: string, method: string, currency: string, baseUnits: string): void
  /** mpp_upstream_duration_seconds{route} histogram, buckets 5ms..30s (the default upstream timeout) */
  upstreamLatency(route: string, seconds: number): void
  /** mpp_paid_upstream_failed_total{route}: charged, then the upstream failed */
  paidButUpstreamFailed(route: string): void
  /** mpp_backend_errors_total{backend}; backend = "store" | "stripe" | "tempo-rpc" | ... */
  backendError(backend: string): void
  /** mpp_settlements_recovered_total{method,state}: a re-presented credential went on from `settling` (re-driven), `paid` (forwarded without paying again) or `failed` (a retry after its upstream failed) */
  settlementRecovered(method: string, state: 'settling' | 'paid' | 'failed'): void
  /** mpp_settlements_unfinished_total{method,state}: records the sweeper found left unfinished (a dead process, a payer who never came back) */
  settlementUnfinished(method: string, state: string): void
  /** mpp_config_reloads_total{outcome} */
  configReload(outcome: 'success' | 'failure'): void
  /** mpp_shadow_challenges_total{route,method}: 402s shadow mode would have sent, one per element */
  shadowChallenge(route: string, methods: readonly string[]): void
  /** mpp_shadow_revenue_base_units_total{route,method,currency}: what shadow mode would have asked for (same rules as `settled`) */
  shadowRevenue(route: string, method: string, currency: string, baseUnits: string): void
  /** mpp_rate_limited_total{route}: 429s */
  rateLimited(route: string): void
  /** mpp_limit_refusals_total{limit}: requests or connections refused by a `limits` key (bufferedBytes, bodyTimeout, maxConnections) */
  limitRefused(limit: 'bufferedBytes' | 'bodyTimeout' | 'maxConnections'): void
  /** mpp_grants_issued_total{route,grant}: scoped follow-up keys minted (route: the paid route's match) */
  grantIssued(route: string, grant: string): void
  /** mpp_grant_refusals_total{route,reason}: requests to an access route refused; reason "missing" | "invalid" | "expired" | "wrong-scope" | "store-unavailable" */
  grantRefused(route: string, reason: GrantRefusalReason): void
  /** Prometheus text exposition */
  render(): Promise<string>
  readonly contentType: string
}

export type GrantRefusalReason = 'missing' | 'invalid' | 'expired' | 'wrong-scope' | 'store-unavailable'

/** Upstream latency buckets in seconds: an API proxy's range, up to the default 30s upstream timeout. */
export const UPSTREAM_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30]

/** Distinct `method` label values one instance accepts before folding new ones into "other". */
export const MAX_METHOD_VALUES = 32

const METHOD_TOKEN = /^[a-z0-9][a-z0-9._-]{0,63}$/
const BASE_UNITS = /^[0-9]+$/

let processRegistry: Registry | undefined

/**
 * prom-client's default process metrics (process_cpu_seconds_total, process_resident_memory_bytes,
 * nodejs_eventloop_lag_seconds, nodejs_heap_*, nodejs_gc_duration_seconds, ...), unprefixed so
 * stock Node.js dashboards and alerts work as they are. They describe the process, not a gateway,
 * so they are collected once per process into a registry of their own and rendered after each
 * gateway's metrics: collectDefaultMetrics starts a never-stopped event-loop-delay sampler (a 10ms
 * timer) and a GC PerformanceObserver on every call, so calling it per createMetrics() would leak
 * one of each for every gateway a test suite starts.
 */
function defaultProcessMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

type RevenueLabels = 'route' | 'method' | 'currency'

/**
 * A counter whose totals are kept exactly as bigints. Prometheus samples are float64, so at scrape
 * time each total is exported as Number(total): exact while the total is at most
 * Number.MAX_SAFE_INTEGER (2^53 - 1) base units, and the nearest float64 to the exact total beyond
 * that. Converting the exact sum once per scrape, rather than adding each amount (or safe-sized
 * chunks of it) to a float, means no rounding error accumulates across calls: the exported value is
 * always the float64 nearest the true total.
 */
function exactCounter(registry: Registry, name: string, help: string) {
  const totals = new Map<string, { labels: Record<RevenueLabels, string>; total: bigint }>()
  new Counter<RevenueLabels>({
    name,
    help,
    labelNames: ['route', 'method', 'currency'],
    registers: [registry],
    collect() {
      this.reset()
      for (const { labels, total } of totals.values()) {
        const value = Number(total)
        this.inc(labels, Number.isFinite(value) ? value : Number.MAX_VALUE)
      }
    },
  })
  return (labels: Record<RevenueLabels, string>, baseUnits: string) => {
    if (!BASE_UNITS.test(baseUnits)) return
    const key = JSON.stringify([labels.route, labels.method, labels.currency])
    const entry = totals.get(key)
    if (entry) entry.total += BigInt(baseUnits)
    else totals.set(key, { labels, total: BigInt(baseUnits) })
  }
}

/**
 * A counter bumped on every request: plain numbers per label pair, handed to prom-client at scrape
 * time, because prom-client's `inc` validates and hashes the labels on every call.
 */
function tallyCounter(registry: Registry, name: string, help: string, labelNames: readonly [string, string]) {
  const totals = new Map<string, { labels: Record<string, string>; total: number }>()
  new Counter({
    name,
    help,
    labelNames: [...labelNames],
    registers: [registry],
    collect() {
      this.reset()
      for (const { labels, total } of totals.values()) this.inc(labels, total)
    },
  })
  return (first: string, second: string) => {
    const key = `${first}\u0000${second}`
    const entry = totals.get(key)
    if (entry) entry.total++
    else totals.set(key, { labels: { [labelNames[0]]: first, [labelNames[1]]: second }, total: 1 })
  }
}

/**
 * Metric names: mpp_http_requests_total{route,status}, mpp_challenges_issued_total{route,method},
 * mpp_verifications_total{method,outcome}, mpp_replays_rejected_total{method},
 * mpp_revenue_base_units_total{route,method,currency}, mpp_upstream_duration_seconds{route},
 * mpp_paid_upstream_failed_total{route}, mpp_backend_errors_total{backend},
 * mpp_config_reloads_total{outcome}, mpp_shadow_challenges_total{route,method},
 * mpp_shadow_revenue_base_units_total{route,method,currency}, mpp_rate_limited_total{route},
 * mpp_limit_refusals_total{limit}, mpp_grants_issued_total{route,grant},
 * mpp_grant_refusals_total{route,reason}, plus
 * the process-wide default metrics (unprefixed). Recording functions never throw.
 */
export function createMetrics(): GatewayMetrics {
  const registry = new Registry()
  const registers = [registry]

  const requests = tallyCounter(
    registry,
    'mpp_http_requests_total',
    'Finished HTTP requests by route (config match, "none" or "gateway") and status.',
    ['route', 'status'],
  )
  const challenges = new Counter({
    name: 'mpp_challenges_issued_total',
    help: 'Payment challenges issued in 402 responses, by route and method.',
    labelNames: ['route', 'method'],
    registers,
  })
  const verifications = new Counter({
    name: 'mpp_verifications_total',
    help: 'Credential verifications by method and outcome ("success" or a problem type slug).',
    labelNames: ['method', 'outcome'],
    registers,
  })
  const replays = new Counter({
    name: 'mpp_replays_rejected_total',
    help: 'Credentials rejected as replays, by method.',
    labelNames: ['method'],
    registers,
  })
  const revenue = exactCounter(
    registry,
    'mpp_revenue_base_units_total',
    "Settled payments in the currency's base units, by route, method and currency (float64: exact up to 2^53-1).",
  )
  const upstream = new Histogram({
    name: 'mpp_upstream_duration_seconds',
    help: 'Upstream request duration in seconds, by route.',
    labelNames: ['route'],
    buckets: [...UPSTREAM_BUCKETS],
    registers,
  })
  const paidUpstreamFailed = new Counter({
    name: 'mpp_paid_upstream_failed_total',
    help: 'Requests that were charged and whose upstream then failed, by route.',
    labelNames: ['route'],
    registers,
  })
  const backendErrors = new Counter({
    name: 'mpp_backend_errors_total',
    help: 'Errors from backends the gateway depends on (store, stripe, tempo-rpc, ...).',
    labelNames: ['backend'],
    registers,
  })
  const recovered = new Counter({
    name: 'mpp_settlements_recovered_total',
    help: 'Settlements a re-presented credential recovered: re-driven from settling, forwarded again from paid, or retried from failed.',
    labelNames: ['method', 'state'],
    registers,
  })
  const unfinished = new Counter({
    name: 'mpp_settlements_unfinished_total',
    help: 'Settlement records found unfinished after their lease ended (claimed, settling or paid, not served).',
    labelNames: ['method', 'state'],
    registers,
  })
  const reloads = new Counter({
    name: 'mpp_config_reloads_total',
    help: 'Configuration reloads by outcome.',
    labelNames: ['outcome'],
    registers,
  })
  const shadowChallenges = new Counter({
    name: 'mpp_shadow_challenges_total',
    help: 'Challenges shadow-mode routes would have issued, by route and method.',
    labelNames: ['route', 'method'],
    registers,
  })
  const shadowRevenue = exactCounter(
    registry,
    'mpp_shadow_revenue_base_units_total',
    'Base units shadow-mode routes would have asked for, by route, method and currency (float64: exact up to 2^53-1).',
  )
  const rateLimited = new Counter({
    name: 'mpp_rate_limited_total',
    help: 'Requests refused with 429 by the rate limiter, by route.',
    labelNames: ['route'],
    registers,
  })
  const limitRefusals = new Counter({
    name: 'mpp_limit_refusals_total',
    help: 'Requests (or connections) refused by a limits key: bufferedBytes, bodyTimeout, maxConnections.',
    labelNames: ['limit'],
    registers,
  })

  const grantsIssued = new Counter({
    name: 'mpp_grants_issued_total',
    help: 'Scoped follow-up keys issued on paid 2xx answers, by route and grant.',
    labelNames: ['route', 'grant'],
    registers,
  })
  const grantRefusals = new Counter({
    name: 'mpp_grant_refusals_total',
    help: 'Requests to access routes refused, by route and reason (missing, invalid, expired, wrong-scope, store-unavailable).',
    labelNames: ['route', 'reason'],
    registers,
  })

  const exposed = Registry.merge([registry, defaultProcessMetrics()])

  const methods = new Set<string>()
  const method = (name: string): string => {
    if (methods.has(name)) return name
    if (!METHOD_TOKEN.test(name) || methods.size >= MAX_METHOD_VALUES) return 'other'
    methods.add(name)
    return name
  }

  return {
    requestFinished(route, status) {
      requests(route, String(status))
    },
    challengesIssued(route, names) {
      for (const name of names) challenges.inc({ route, method: method(name) })
    },
    verification(name, outcome) {
      verifications.inc({ method: method(name), outcome })
    },
    replayRejected(name) {
      replays.inc({ method: method(name) })
    },
    settled(route, name, currency, baseUnits) {
      revenue({ route, method: method(name), currency }, baseUnits)
    },
    upstreamLatency(route, seconds) {
      if (Number.isNaN(seconds)) return
      upstream.observe({ route }, Math.min(Math.max(seconds, 0), Number.MAX_VALUE))
    },
    paidButUpstreamFailed(route) {
      paidUpstreamFailed.inc({ route })
    },
    backendError(backend) {
      backendErrors.inc({ backend })
    },
    settlementRecovered(name, state) {
      recovered.inc({ method: method(name), state })
    },
    settlementUnfinished(name, state) {
      unfinished.inc({ method: method(name), state })
    },
    configReload(outcome) {
      reloads.inc({ outcome })
    },
    shadowChallenge(route, names) {
      for (const name of names) shadowChallenges.inc({ route, method: method(name) })
    },
    shadowRevenue(route, name, currency, baseUnits) {
      shadowRevenue({ route, method: method(name), currency }, baseUnits)
    },
    rateLimited(route) {
      rateLimited.inc({ route })
    },
    limitRefused(limit) {
      limitRefusals.inc({ limit })
    },
    grantIssued(route, grant) {
      grantsIssued.inc({ route, grant })
    },
    grantRefused(route, reason) {
      grantRefusals.inc({ route, reason })
    },
    render: () => exposed.metrics(),
    contentType: exposed.contentType,
  }
}
