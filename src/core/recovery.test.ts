import { describe, expect, it } from 'vitest'
import {
  authorizationFor,
  challengesOf,
  fakeMethod,
  forwardOf,
  input,
  problemOf,
  respondOf,
  routeOffersFor,
  setup,
} from '../../test/support/core.js'
import { parse as parseReceipt } from '../protocol/receipt.js'
import { createMemoryStore } from '../store/memory.js'
import type { Settlements } from '../store/ports.js'
import { StoreUnavailable } from '../store/types.js'
import { BackendUnavailable, type SettleInput } from './method.js'
import type { RouteOffers } from './price-table.js'

/**
 * A settlement store that misbehaves as Redis can: `failNext` rejects before applying (unreachable),
 * `timeOutAfterApplyingNext` applies, then rejects (the command ran, the answer came too late), and
 * `wipe` loses everything (restarted without persistence: a new memory, a new epoch).
 */
function storeDouble(clock: { now: number }) {
  let inner: Settlements = createMemoryStore({ now: () => clock.now })
  const faults = { failNext: 0, timeOutAfterApplyingNext: 0 }
  const wrap =
    <A extends unknown[], R>(call: (store: Settlements, ...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (faults.failNext > 0) {
        faults.failNext--
        throw new StoreUnavailable('Redis settlement failed: Connection is closed.')
      }
      const result = await call(inner, ...args)
      if (faults.timeOutAfterApplyingNext > 0) {
        faults.timeOutAfterApplyingNext--
        throw new StoreUnavailable('Redis settlement failed: Command timed out')
      }
      return result
    }
  const settlements: Settlements = {
    begin: wrap((s, request: Parameters<Settlements['begin']>[0]) => s.begin(request)),
    update: wrap((s, request: Parameters<Settlements['update']>[0]) => s.update(request)),
    drop: wrap((s, id: string, attempt: string) => s.drop(id, attempt)),
    unfinished: wrap((s, cutoff: number, limit: number) => s.unfinished(cutoff, limit)),
  }
  return {
    settlements,
    faults,
    wipe: () => {
      inner = createMemoryStore({ now: () => clock.now })
    },
  }
}

/** A core on the store double, a method that records what moved money, and one credential for it. */
async function scene(settle?: (input: SettleInput) => Promise<{ reference: string }>) {
  let double: ReturnType<typeof storeDouble> | undefined
  const s = setup({
    wrapSettlements: (_store, clock) => {
      double = storeDouble(clock)
      return double.settlements
    },
  })
  const moved: SettleInput[] = []
  const method = fakeMethod(
    'stripe',
    settle ??
      (async (settleInput) => {
        await settleInput.settling({ idempotencyKey: `mpp_${settleInput.challengeId}_x` })
        moved.push(settleInput)
        return { reference: 'pi_1' }
      }),
  )
  const route: RouteOffers = routeOffersFor([method])
  const [challenge] = challengesOf(await s.core.handle(input(route)))
  const authorization = authorizationFor(challenge!)
  const present = (auth = authorization) => s.core.handle(input(route, { headers: { authorization: auth } }))
  return { ...s, double: double!, method, moved, route, challenge: challenge!, authorization, present }
}

describe('payment core: a store that loses answers', () => {
  it('a claim that timed out but ran is the same attempt on retry: settled once, never "already used"', async () => {
    const s = await scene()
    s.double.faults.timeOutAfterApplyingNext = 1
    const first = respondOf(await s.present())
    expect(first.status).toBe(503)
    expect(problemOf(first).type).toBe('urn:mpp-gateway:problem:store-unavailable')
    expect(s.moved).toHaveLength(0)
    forwardOf(await s.present())
    expect(s.moved).toHaveLength(1)
  })

  it('a settling write that timed out but ran, and a store still down: nothing sent; busy until the lease ends, then re-driven', async () => {
    const s = await scene()
    // begin answers; the settling write is applied and its answer lost; giving it up fails too
    let writes = 0
    const update = s.double.settlements.update
    s.double.settlements.update = async (request) => {
      writes++
      if (writes === 1) s.double.faults.timeOutAfterApplyingNext = 1
      if (writes === 2) s.double.faults.failNext = 1
      return update(request)
    }
    expect(problemOf(await s.present()).type).toBe('urn:mpp-gateway:problem:store-unavailable')
    expect(s.moved).toHaveLength(0)
    const busy = respondOf(await s.present())
    expect(busy.status).toBe(503)
    expect(problemOf(busy).type).toBe('urn:mpp-gateway:problem:payment-in-progress')
    expect(Number(busy.headers['Retry-After'])).toBeGreaterThanOrEqual(1)
    s.clock.now += 61_000
    const decision = forwardOf(await s.present())
    expect(decision.outcome.log).toMatchObject({ payment: 'paid', recovered: 'settling' })
    expect(s.moved).toHaveLength(1)
    expect(s.moved[0]!.redrive).toStrictEqual({ idempotencyKey: `mpp_${s.challenge.id}_x` })
  })

  it('a backend that failed after the money call: the same credential re-drives at once, another is refused', async () => {
    let down = true
    const s = await scene(async (settleInput) => {
      await settleInput.settling({ idempotencyKey: 'k' })
      if (down) throw new BackendUnavailable('stripe', 'Stripe did not answer within 1000 ms.')
      return { reference: 'pi_late' }
    })
    expect(respondOf(await s.present()).status).toBe(503)
    const other = authorizationFor(s.challenge, { token: 'spt_2' })
    const refused = respondOf(await s.present(other))
    expect(refused.status).toBe(402)
    expect(problemOf(refused)).toMatchObject({
      type: 'https://paymentauth.org/problems/invalid-challenge',
      detail: 'This challenge is already being paid with another credential.',
    })
    down = false
    const decision = forwardOf(await s.present())
    expect(parseReceipt(decision.receipt).reference).toBe('pi_late')
    expect(s.method.calls.map((c) => c.redrive)).toStrictEqual([undefined, { idempotencyKey: 'k' }])
  })

  it('a paid write that timed out but ran still forwards: the money moved', async () => {
    const s = await scene()
    let writes = 0
    const update = s.double.settlements.update
    s.double.settlements.update = async (request) => {
      if (++writes === 2) s.double.faults.timeOutAfterApplyingNext = 1
      return update(request)
    }
    forwardOf(await s.present())
    expect(s.logger.lines.map((l) => l.message)).toContain('settled payment could not be marked paid; forwarding it')
  })

  it('a paid write that never landed, then a payer who left: the retry is forwarded, not a 500', async () => {
    const s = await scene()
    let writes = 0
    const update = s.double.settlements.update
    s.double.settlements.update = async (request) => {
      if (++writes === 2) s.double.faults.failNext = 1 // the paid write: refused before applying
      return update(request)
    }
    const first = forwardOf(await s.present())
    await first.commit({ outcome: 'client-gone', upstreamStatus: 0 })
    s.clock.now += 61_000
    const again = forwardOf(await s.present())
    expect(again.outcome.log).toMatchObject({ payment: 'paid', reference: 'pi_1', recovered: 'paid' })
    expect(s.moved).toHaveLength(1)
  })

  it('a payer who left is forwarded the same payment later, with the same receipt reference', async () => {
    const s = await scene()
    const first = forwardOf(await s.present())
    const committed = await first.commit({ outcome: 'client-gone', upstreamStatus: 0 })
    expect(committed.entry).toMatchObject({ state: 'paid', upstreamStatus: 0 })
    const again = forwardOf(await s.present())
    expect(again.outcome.log).toMatchObject({ payment: 'paid', reference: 'pi_1', recovered: 'paid' })
    expect(parseReceipt(again.receipt).reference).toBe('pi_1')
    expect(s.moved).toHaveLength(1)
    await again.commit({ outcome: 'served', upstreamStatus: 200 })
    expect(problemOf(await s.present()).detail).toBe('This challenge has already been used.')
    expect((await s.store.ledger()).map((e) => e.state)).toEqual(['paid', 'served'])
  })

  it('a store that lost everything refuses what was issued before, and pays what came after', async () => {
    const s = await scene()
    await forwardOf(await s.present()).commit({ outcome: 'served', upstreamStatus: 200 })
    s.clock.now += 1_000
    s.double.wipe()
    const refused = respondOf(await s.present())
    expect(refused.status).toBe(402)
    expect(problemOf(refused).detail).toMatch(/issued before the payment store was reset/)
    expect(s.moved).toHaveLength(1)
    s.clock.now += 1_000
    const [fresh] = challengesOf(refused)
    forwardOf(await s.present(authorizationFor(fresh!)))
    expect(s.moved).toHaveLength(2)
  })

  it('the sweeper reports a record left unfinished once its lease ended a minute ago, with its handle', async () => {
    const s = await scene(async (settleInput) => {
      await settleInput.settling({ idempotencyKey: 'mpp_k' })
      throw new BackendUnavailable('stripe', 'Stripe did not answer within 1000 ms.')
    })
    await s.present()
    expect(await s.core.sweep()).toEqual([])
    s.clock.now += 60_000
    expect(await s.core.sweep()).toStrictEqual([{ metric: 'settlementUnfinished', args: ['stripe', 'settling'] }])
    expect(s.logger.lines.find((l) => l.message === 'settlement left unfinished')).toMatchObject({
      level: 'error',
      fields: { challengeId: s.challenge.id, state: 'settling', method: 'stripe', handle: { idempotencyKey: 'mpp_k' } },
    })
    expect(await s.core.sweep()).toEqual([])
  })
})
