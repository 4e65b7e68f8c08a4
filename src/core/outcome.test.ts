import { describe, expect, it } from 'vitest'
import { createMetrics } from '../metrics/metrics.js'
import { OutcomeDraft, countAll, shadowOutcome } from './outcome.js'

describe('OutcomeDraft', () => {
  it('hands out a frozen copy that later writes do not change', () => {
    const draft = new OutcomeDraft()
    draft.set({ paymentMethod: 'stripe' })
    draft.count({ metric: 'backendError', args: ['store'] })
    const outcome = draft.done()
    draft.set({ payment: 'paid' })
    expect(outcome).toStrictEqual({
      log: { paymentMethod: 'stripe' },
      counts: [{ metric: 'backendError', args: ['store'] }],
    })
    expect(Object.isFrozen(outcome.log) && Object.isFrozen(outcome.counts)).toBe(true)
  })

  it('keeps a refusal a refusal: settle sets the payment only when none is set', () => {
    const draft = new OutcomeDraft()
    draft.set({ payment: 'refused' })
    draft.settle('challenged')
    expect(draft.done().log.payment).toBe('refused')
    const fresh = new OutcomeDraft()
    fresh.settle('challenged')
    expect(fresh.done().log.payment).toBe('challenged')
  })
})

describe('countAll and shadowOutcome', () => {
  it('moves the named counters with their arguments', async () => {
    const metrics = createMetrics()
    countAll(metrics, shadowOutcome('GET /v1/a', [{ method: 'stripe', currency: 'usd', amount: '50' }]).counts)
    countAll(metrics, [{ metric: 'rateLimited', args: ['GET /v1/a'] }])
    const text = await metrics.render()
    expect(text).toMatch(/mpp_shadow_challenges_total\{[^}]*route="GET \/v1\/a"[^}]*\} 1/)
    expect(text).toMatch(/mpp_rate_limited_total\{route="GET \/v1\/a"\} 1/)
  })

  it('logs a shadow route as payment "shadow" and counts what it would have asked for', () => {
    const outcome = shadowOutcome('GET /v1/a', [
      { method: 'stripe', currency: 'usd', amount: '50' },
      { method: 'tempo', currency: '0x20c0', amount: '500000' },
    ])
    expect(outcome).toStrictEqual({
      log: { payment: 'shadow' },
      counts: [
        { metric: 'shadowChallenge', args: ['GET /v1/a', ['stripe', 'tempo']] },
        { metric: 'shadowRevenue', args: ['GET /v1/a', 'stripe', 'usd', '50'] },
        { metric: 'shadowRevenue', args: ['GET /v1/a', 'tempo', '0x20c0', '500000'] },
      ],
    })
  })
})
