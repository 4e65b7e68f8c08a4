import { describe, expect, it } from 'vitest'
import { createMetrics, MAX_METHOD_VALUES, UPSTREAM_BUCKETS } from './metrics.js'

const USDC = '0x20C0000000000000000000000000000000000001'

interface Sample {
  readonly name: string
  readonly labels: Record<string, string>
  readonly value: string
}

/** Parses the sample lines of a Prometheus text exposition (label values here never contain `"` or `,`). */
function parse(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match) throw new Error(`unparseable line: ${line}`)
    const labels: Record<string, string> = {}
    for (const pair of match[2] ? match[2].split(',') : []) {
      const kv = /^([a-zA-Z_][a-zA-Z0-9_]*)="(.*)"$/.exec(pair)
      if (!kv) throw new Error(`unparseable labels: ${line}`)
      labels[kv[1]!] = kv[2]!
    }
    samples.push({ name: match[1]!, labels, value: match[3]! })
  }
  return samples
}

/** The value of the one sample with exactly these labels, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): string | undefined {
  const found = parse(text).filter(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )
  expect(found.length).toBeLessThanOrEqual(1)
  return found[0]?.value
}

function typeOf(text: string, name: string): string | undefined {
  return new RegExp(`^# TYPE ${name} (\\S+)$`, 'm').exec(text)?.[1]
}

describe('createMetrics', () => {
  it('counts grant keys issued by route and grant, and refusals by route and reason', async () => {
    const m = createMetrics()
    m.grantIssued('POST /agent/orders', 'order')
    m.grantIssued('POST /agent/orders', 'order')
    m.grantRefused('GET /agent/orders/:id', 'wrong-scope')
    m.grantRefused('GET /agent/orders/:id', 'missing')
    const text = await m.render()
    expect(typeOf(text, 'mpp_grants_issued_total')).toBe('counter')
    expect(sample(text, 'mpp_grants_issued_total', { route: 'POST /agent/orders', grant: 'order' })).toBe('2')
    expect(sample(text, 'mpp_grant_refusals_total', { route: 'GET /agent/orders/:id', reason: 'wrong-scope' })).toBe(
      '1',
    )
    expect(sample(text, 'mpp_grant_refusals_total', { route: 'GET /agent/orders/:id', reason: 'missing' })).toBe('1')
  })

  it('counts finished requests by route and status', async () => {
    const m = createMetrics()
    m.requestFinished('GET /v1/cheap', 200)
    m.requestFinished('GET /v1/cheap', 200)
    m.requestFinished('GET /v1/cheap', 402)
    m.requestFinished('none', 404)
    m.requestFinished('gateway', 200)
    const text = await m.render()
    expect(typeOf(text, 'mpp_http_requests_total')).toBe('counter')
    expect(sample(text, 'mpp_http_requests_total', { route: 'GET /v1/cheap', status: '200' })).toBe('2')
    expect(sample(text, 'mpp_http_requests_total', { route: 'GET /v1/cheap', status: '402' })).toBe('1')
    expect(sample(text, 'mpp_http_requests_total', { route: 'none', status: '404' })).toBe('1')
    expect(sample(text, 'mpp_http_requests_total', { route: 'gateway', status: '200' })).toBe('1')
  })

  it('counts challenges per method, one per element', async () => {
    const m = createMetrics()
    m.challengesIssued('GET /v1/cheap', ['tempo', 'stripe'])
    m.challengesIssued('GET /v1/cheap', ['tempo'])
    m.challengesIssued('GET /v1/none', [])
    const text = await m.render()
    expect(sample(text, 'mpp_challenges_issued_total', { route: 'GET /v1/cheap', method: 'tempo' })).toBe('2')
    expect(sample(text, 'mpp_challenges_issued_total', { route: 'GET /v1/cheap', method: 'stripe' })).toBe('1')
    expect(parse(text).filter((s) => s.labels.route === 'GET /v1/none')).toEqual([])
  })

  it('counts verifications by method and outcome', async () => {
    const m = createMetrics()
    m.verification('tempo', 'success')
    m.verification('tempo', 'success')
    m.verification('stripe', 'verification-failed')
    m.verification('tempo', 'invalid-challenge')
    const text = await m.render()
    expect(sample(text, 'mpp_verifications_total', { method: 'tempo', outcome: 'success' })).toBe('2')
    expect(sample(text, 'mpp_verifications_total', { method: 'stripe', outcome: 'verification-failed' })).toBe('1')
    expect(sample(text, 'mpp_verifications_total', { method: 'tempo', outcome: 'invalid-challenge' })).toBe('1')
  })

  it('counts replays, paid-but-upstream-failed, backend errors, reloads and rate limiting', async () => {
    const m = createMetrics()
    m.replayRejected('tempo')
    m.replayRejected('tempo')
    m.paidButUpstreamFailed('POST /v1/expensive')
    m.backendError('store')
    m.backendError('store')
    m.backendError('tempo-rpc')
    m.configReload('success')
    m.configReload('failure')
    m.configReload('failure')
    m.rateLimited('GET /v1/cheap')
    const text = await m.render()
    expect(sample(text, 'mpp_replays_rejected_total', { method: 'tempo' })).toBe('2')
    expect(sample(text, 'mpp_paid_upstream_failed_total', { route: 'POST /v1/expensive' })).toBe('1')
    expect(sample(text, 'mpp_backend_errors_total', { backend: 'store' })).toBe('2')
    expect(sample(text, 'mpp_backend_errors_total', { backend: 'tempo-rpc' })).toBe('1')
    expect(sample(text, 'mpp_config_reloads_total', { outcome: 'success' })).toBe('1')
    expect(sample(text, 'mpp_config_reloads_total', { outcome: 'failure' })).toBe('2')
    expect(sample(text, 'mpp_rate_limited_total', { route: 'GET /v1/cheap' })).toBe('1')
  })

  it('sums revenue exactly per route, method and currency', async () => {
    const m = createMetrics()
    m.settled('GET /v1/cheap', 'tempo', USDC, '1000000')
    const first = await m.render()
    expect(typeOf(first, 'mpp_revenue_base_units_total')).toBe('counter')
    expect(first).toContain(
      `mpp_revenue_base_units_total{route="GET /v1/cheap",method="tempo",currency="${USDC}"} 1000000\n`,
    )

    m.settled('GET /v1/cheap', 'tempo', USDC, '250000')
    m.settled('GET /v1/cheap', 'tempo', USDC, '1')
    m.settled('GET /v1/cheap', 'stripe', 'usd', '125')
    m.settled('GET /v1/cheap', 'stripe', 'usd', '75')
    m.settled('GET /v1/other', 'stripe', 'usd', '0')
    const text = await m.render()
    expect(
      sample(text, 'mpp_revenue_base_units_total', { route: 'GET /v1/cheap', method: 'tempo', currency: USDC }),
    ).toBe('1250001')
    expect(
      sample(text, 'mpp_revenue_base_units_total', { route: 'GET /v1/cheap', method: 'stripe', currency: 'usd' }),
    ).toBe('200')
    expect(
      sample(text, 'mpp_revenue_base_units_total', { route: 'GET /v1/other', method: 'stripe', currency: 'usd' }),
    ).toBe('0')
    // a scrape does not change the totals
    const revenueLines = (t: string) => t.split('\n').filter((line) => line.startsWith('mpp_revenue_base_units_total'))
    expect(revenueLines(await m.render())).toEqual(revenueLines(text))
    expect(revenueLines(text)).toHaveLength(3)
  })

  it('keeps huge totals exact and exports the nearest float64', async () => {
    const m = createMetrics()
    const huge = '900719925474099300' // 100 × 2^53-ish, far above Number.MAX_SAFE_INTEGER
    m.settled('GET /v1/cheap', 'tempo', USDC, huge)
    let text = await m.render()
    expect(
      Number(sample(text, 'mpp_revenue_base_units_total', { route: 'GET /v1/cheap', method: 'tempo', currency: USDC })),
    ).toBe(Number(BigInt(huge)))

    m.settled('GET /v1/cheap', 'tempo', USDC, huge)
    m.settled('GET /v1/cheap', 'tempo', USDC, huge)
    text = await m.render()
    expect(
      Number(sample(text, 'mpp_revenue_base_units_total', { route: 'GET /v1/cheap', method: 'tempo', currency: USDC })),
    ).toBe(Number(3n * BigInt(huge)))

    // adding 1 to a float at 2^53 is lost; the exact total is not
    const edge = String(2n ** 53n)
    m.settled('GET /v1/edge', 'tempo', USDC, edge)
    for (let i = 0; i < 10; i++) m.settled('GET /v1/edge', 'tempo', USDC, '1')
    text = await m.render()
    expect(
      sample(text, 'mpp_revenue_base_units_total', { route: 'GET /v1/edge', method: 'tempo', currency: USDC }),
    ).toBe(String(2n ** 53n + 10n))

    // a 256-bit amount still renders as a finite number
    m.settled('GET /v1/wei', 'tempo', USDC, String(2n ** 256n - 1n))
    const wei = Number(
      sample(await m.render(), 'mpp_revenue_base_units_total', {
        route: 'GET /v1/wei',
        method: 'tempo',
        currency: USDC,
      }),
    )
    expect(wei).toBe(Number(2n ** 256n - 1n))
  })

  it('ignores amounts that are not non-negative integer strings, without throwing', async () => {
    const m = createMetrics()
    m.settled('GET /v1/cheap', 'stripe', 'usd', '100')
    for (const bad of ['', '-5', '1.5', '1e6', ' 7', '0x10', 'abc']) {
      expect(() => m.settled('GET /v1/cheap', 'stripe', 'usd', bad)).not.toThrow()
      expect(() => m.shadowRevenue('GET /v1/cheap', 'stripe', 'usd', bad)).not.toThrow()
    }
    const text = await m.render()
    expect(
      sample(text, 'mpp_revenue_base_units_total', { route: 'GET /v1/cheap', method: 'stripe', currency: 'usd' }),
    ).toBe('100')
    expect(
      sample(text, 'mpp_shadow_revenue_base_units_total', {
        route: 'GET /v1/cheap',
        method: 'stripe',
        currency: 'usd',
      }),
    ).toBeUndefined()
  })

  it('counts shadow challenges and shadow revenue separately from real ones', async () => {
    const m = createMetrics()
    m.shadowChallenge('GET /v1/trial', ['stripe', 'tempo'])
    m.shadowChallenge('GET /v1/trial', ['stripe'])
    m.shadowRevenue('GET /v1/trial', 'stripe', 'usd', '75')
    m.shadowRevenue('GET /v1/trial', 'stripe', 'usd', '75')
    m.shadowRevenue('GET /v1/trial', 'tempo', USDC, '750000')
    const text = await m.render()
    expect(sample(text, 'mpp_shadow_challenges_total', { route: 'GET /v1/trial', method: 'stripe' })).toBe('2')
    expect(sample(text, 'mpp_shadow_challenges_total', { route: 'GET /v1/trial', method: 'tempo' })).toBe('1')
    expect(
      sample(text, 'mpp_shadow_revenue_base_units_total', {
        route: 'GET /v1/trial',
        method: 'stripe',
        currency: 'usd',
      }),
    ).toBe('150')
    expect(
      sample(text, 'mpp_shadow_revenue_base_units_total', { route: 'GET /v1/trial', method: 'tempo', currency: USDC }),
    ).toBe('750000')
    expect(
      parse(text).filter((s) => s.name === 'mpp_challenges_issued_total' || s.name === 'mpp_revenue_base_units_total'),
    ).toEqual([])
  })

  it('records upstream latency in a histogram with 5ms..30s buckets', async () => {
    const m = createMetrics()
    m.upstreamLatency('GET /v1/cheap', 0.003)
    m.upstreamLatency('GET /v1/cheap', 0.2)
    m.upstreamLatency('GET /v1/cheap', 45)
    m.upstreamLatency('GET /v1/cheap', Number.NaN) // ignored
    m.upstreamLatency('GET /v1/cheap', -1) // clock skew: counted as 0
    const text = await m.render()
    expect(typeOf(text, 'mpp_upstream_duration_seconds')).toBe('histogram')
    const buckets = parse(text).filter(
      (s) => s.name === 'mpp_upstream_duration_seconds_bucket' && s.labels.route === 'GET /v1/cheap',
    )
    expect(buckets.map((s) => s.labels.le)).toEqual([...UPSTREAM_BUCKETS.map(String), '+Inf'])
    expect(UPSTREAM_BUCKETS[0]).toBe(0.005)
    expect(UPSTREAM_BUCKETS.at(-1)).toBe(30)
    const le = (bound: string) =>
      sample(text, 'mpp_upstream_duration_seconds_bucket', { route: 'GET /v1/cheap', le: bound })
    expect(le('0.005')).toBe('2')
    expect(le('0.1')).toBe('2')
    expect(le('0.25')).toBe('3')
    expect(le('30')).toBe('3')
    expect(le('+Inf')).toBe('4')
    expect(sample(text, 'mpp_upstream_duration_seconds_count', { route: 'GET /v1/cheap' })).toBe('4')
    expect(Number(sample(text, 'mpp_upstream_duration_seconds_sum', { route: 'GET /v1/cheap' }))).toBeCloseTo(45.203, 9)
  })

  it('folds implausible or too many distinct method names into "other"', async () => {
    const m = createMetrics()
    m.verification('tempo', 'success')
    m.verification('Robert"); DROP TABLE', 'invalid-challenge')
    m.verification('x'.repeat(200), 'invalid-challenge')
    for (let i = 0; i < MAX_METHOD_VALUES + 10; i++) m.verification(`junk${i}`, 'invalid-challenge')
    m.verification('tempo', 'success') // already known: keeps its name
    const text = await m.render()
    const series = parse(text).filter((s) => s.name === 'mpp_verifications_total')
    expect(new Set(series.map((s) => s.labels.method)).size).toBe(MAX_METHOD_VALUES + 1)
    expect(sample(text, 'mpp_verifications_total', { method: 'tempo', outcome: 'success' })).toBe('2')
    expect(sample(text, 'mpp_verifications_total', { method: 'other', outcome: 'invalid-challenge' })).toBe(
      String(2 + 10 + 1),
    )
  })

  it('two instances do not share values', async () => {
    const a = createMetrics()
    const b = createMetrics()
    a.requestFinished('GET /v1/cheap', 200)
    a.settled('GET /v1/cheap', 'tempo', USDC, '1000000')
    a.configReload('success')
    b.requestFinished('GET /v1/cheap', 200)
    b.requestFinished('GET /v1/cheap', 200)
    b.settled('GET /v1/cheap', 'tempo', USDC, '5')
    const [ta, tb] = [await a.render(), await b.render()]
    expect(sample(ta, 'mpp_http_requests_total', { route: 'GET /v1/cheap', status: '200' })).toBe('1')
    expect(sample(tb, 'mpp_http_requests_total', { route: 'GET /v1/cheap', status: '200' })).toBe('2')
    expect(
      sample(ta, 'mpp_revenue_base_units_total', { route: 'GET /v1/cheap', method: 'tempo', currency: USDC }),
    ).toBe('1000000')
    expect(
      sample(tb, 'mpp_revenue_base_units_total', { route: 'GET /v1/cheap', method: 'tempo', currency: USDC }),
    ).toBe('5')
    expect(sample(ta, 'mpp_config_reloads_total', { outcome: 'success' })).toBe('1')
    expect(sample(tb, 'mpp_config_reloads_total', { outcome: 'success' })).toBeUndefined()
    expect(
      sample(await createMetrics().render(), 'mpp_http_requests_total', { route: 'GET /v1/cheap', status: '200' }),
    ).toBeUndefined()
  })

  it('includes the default process metrics, unprefixed, and renders parseable text', async () => {
    const m = createMetrics()
    const text = await m.render()
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/)
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(typeOf(text, name), name).toBeDefined()
    }
    expect(Number(sample(text, 'process_resident_memory_bytes'))).toBeGreaterThan(0)
    expect(() => parse(text)).not.toThrow()
    // every metric is described exactly once
    const typed = [...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1])
    expect(new Set(typed).size).toBe(typed.length)
    // unused gateway metrics are still described, so dashboards see them before the first event
    for (const name of [
      'mpp_http_requests_total',
      'mpp_revenue_base_units_total',
      'mpp_shadow_revenue_base_units_total',
      'mpp_rate_limited_total',
    ]) {
      expect(typeOf(text, name), name).toBe('counter')
    }
  })
})
