import { describe, expect, it } from 'vitest'
import type { Address, Hex } from '../../config/types.js'
import { encode } from './attribution-memo.js'
import { type Binding, matchTransfers, type RequiredTransfer, type Transfer } from './transfers.js'

const TOKEN: Address = '0x20c0000000000000000000000000000000000000'
const MERCHANT: Address = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const PLATFORM: Address = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'
const REFERRER: Address = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
const binding: Binding = { realm: 'api.example.com', challengeId: 'ch_abc' }
const BOUND = encode(binding)
const SPLIT_MEMO: Hex = `0x${'5e'.repeat(32)}`

const t = (to: Address, amount: bigint, memo?: Hex): Transfer => ({
  token: TOKEN,
  to,
  amount,
  ...(memo ? { memo } : {}),
})

/** primary 0.70 to the merchant (bound memo), 0.20 to the platform with a memo, 0.10 to a referrer */
const REQUIRED: RequiredTransfer[] = [
  { to: MERCHANT, amount: 700_000n, memo: 'bound' },
  { to: PLATFORM, amount: 200_000n, memo: SPLIT_MEMO },
  { to: REFERRER, amount: 100_000n },
]
const PAID = [t(MERCHANT, 700_000n, BOUND), t(PLATFORM, 200_000n, SPLIT_MEMO), t(REFERRER, 100_000n)]

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]]
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  )
}

describe('matchTransfers', () => {
  it('accepts the primary and the splits in any order, exact or not', () => {
    for (const order of permutations(PAID)) {
      expect(matchTransfers(order, REQUIRED, binding, true)).toEqual({ ok: true })
      expect(matchTransfers(order, REQUIRED, binding, false)).toEqual({ ok: true })
    }
  })

  it('compares recipients as addresses, not as strings', () => {
    const lower = PAID.map((p) => ({ ...p, to: p.to.toLowerCase() as Address }))
    expect(matchTransfers(lower, REQUIRED, binding, true).ok).toBe(true)
  })

  it('matches a split to the primary recipient without using the primary transfer twice', () => {
    // the merchant is paid twice: 0.70 with the bound memo (primary) and 0.70 plain (split)
    const required: RequiredTransfer[] = [
      { to: MERCHANT, amount: 700_000n, memo: 'bound' },
      { to: MERCHANT, amount: 700_000n },
    ]
    expect(matchTransfers([t(MERCHANT, 700_000n, BOUND), t(MERCHANT, 700_000n)], required, binding, true).ok).toBe(true)
    expect(matchTransfers([t(MERCHANT, 700_000n), t(MERCHANT, 700_000n, BOUND)], required, binding, true).ok).toBe(true)
    // the split (any memo) listed first would greedily take the bound transfer; backtracking fixes that
    expect(
      matchTransfers([t(MERCHANT, 700_000n, BOUND), t(MERCHANT, 700_000n)], [...required].reverse(), binding, true).ok,
    ).toBe(true)
    // one transfer cannot pay both
    const once = matchTransfers([t(MERCHANT, 700_000n, BOUND)], required, binding, false)
    expect(once.ok).toBe(false)
    if (!once.ok) expect(once.insufficient).toBe(false)
  })

  it('refuses a primary transfer without the memo', () => {
    const result = matchTransfers([t(MERCHANT, 700_000n), PAID[1]!, PAID[2]!], REQUIRED, binding, true)
    expect(result).toMatchObject({ ok: false, insufficient: false })
    if (!result.ok) expect(result.detail).toContain('attribution memo')
  })

  it("refuses a primary transfer carrying another challenge's memo", () => {
    const foreign = encode({ realm: binding.realm, challengeId: 'ch_someone_elses' })
    const result = matchTransfers([t(MERCHANT, 700_000n, foreign), PAID[1]!, PAID[2]!], REQUIRED, binding, false)
    expect(result).toMatchObject({ ok: false, insufficient: false })
  })

  it('requires the exact memo on a split that sets one, and none on a split that does not', () => {
    const wrongMemo = matchTransfers(
      [PAID[0]!, t(PLATFORM, 200_000n, `0x${'00'.repeat(32)}`), PAID[2]!],
      REQUIRED,
      binding,
      true,
    )
    expect(wrongMemo).toMatchObject({ ok: false, insufficient: false })
    if (!wrongMemo.ok) expect(wrongMemo.detail).toContain(SPLIT_MEMO)
    const noMemo = matchTransfers([PAID[0]!, t(PLATFORM, 200_000n), PAID[2]!], REQUIRED, binding, true)
    expect(noMemo.ok).toBe(false)
    // upper-case memo hex is the same memo
    expect(
      matchTransfers(
        [PAID[0]!, t(PLATFORM, 200_000n, SPLIT_MEMO.toUpperCase().replace('0X', '0x') as Hex), PAID[2]!],
        REQUIRED,
        binding,
        true,
      ).ok,
    ).toBe(true)
    // a split without a configured memo accepts any memo
    expect(
      matchTransfers([PAID[0]!, PAID[1]!, t(REFERRER, 100_000n, `0x${'11'.repeat(32)}`)], REQUIRED, binding, true).ok,
    ).toBe(true)
  })

  it('with exact, refuses any extra transfer; without, ignores it', () => {
    const extra = [...PAID, t(REFERRER, 1n)]
    const exact = matchTransfers(extra, REQUIRED, binding, true)
    expect(exact).toMatchObject({ ok: false, insufficient: false })
    if (!exact.ok) expect(exact.detail).toContain('exactly 3')
    expect(matchTransfers(extra, REQUIRED, binding, false).ok).toBe(true)
  })

  it('flags an underpayment as insufficient', () => {
    const primaryShort = matchTransfers([t(MERCHANT, 699_999n, BOUND), PAID[1]!, PAID[2]!], REQUIRED, binding, true)
    expect(primaryShort).toMatchObject({ ok: false, insufficient: true })
    const splitShort = matchTransfers([PAID[0]!, PAID[1]!, t(REFERRER, 99_999n)], REQUIRED, binding, true)
    expect(splitShort).toMatchObject({ ok: false, insufficient: true })
  })

  it('refuses an overpayment as not exact, without calling it insufficient', () => {
    const result = matchTransfers([t(MERCHANT, 700_001n, BOUND), PAID[1]!, PAID[2]!], REQUIRED, binding, true)
    expect(result).toMatchObject({ ok: false, insufficient: false })
  })

  it('refuses payment to someone else', () => {
    const result = matchTransfers([t(REFERRER, 700_000n, BOUND), PAID[1]!, PAID[2]!], REQUIRED, binding, false)
    expect(result).toMatchObject({ ok: false, insufficient: false })
    if (!result.ok) expect(result.detail).toContain(MERCHANT)
    expect(matchTransfers([], REQUIRED, binding, false)).toMatchObject({ ok: false, insufficient: false })
  })
})
