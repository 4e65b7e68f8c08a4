import { type Address, encodeAbiParameters, encodeEventTopics, type Hex, pad } from 'viem'
import { Abis } from 'viem/tempo'
import { describe, expect, it } from 'vitest'
import { type Log, TRANSFER_TOPIC, TRANSFER_WITH_MEMO_TOPIC, transfersFromLogs } from './receipt-logs.js'

const TOKEN: Address = '0x20C0000000000000000000000000000000000000'
const OTHER_TOKEN: Address = '0x20C0000000000000000000000000000000000001'
const FEE_MANAGER: Address = '0xfeEC000000000000000000000000000000000000'
const PAYER: Address = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const MERCHANT: Address = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const MEMO: Hex = `0x${'ab'.repeat(32)}`

const amountData = (amount: bigint) => encodeAbiParameters([{ type: 'uint256' }], [amount])

/** Logs as the TIP-20 precompile emits them, topics built by viem from the tip20 ABI (an oracle for the constants). */
function transferLog(p: { token?: Address; from?: Address; to?: Address; amount: bigint }): Log {
  return {
    address: p.token ?? TOKEN,
    topics: encodeEventTopics({
      abi: Abis.tip20,
      eventName: 'Transfer',
      args: { from: p.from ?? PAYER, to: p.to ?? MERCHANT },
    }) as Hex[],
    data: amountData(p.amount),
  }
}
function memoLog(p: { token?: Address; from?: Address; to?: Address; amount: bigint; memo?: Hex }): Log {
  const args = { from: p.from ?? PAYER, to: p.to ?? MERCHANT, memo: pad(p.memo ?? MEMO, { size: 32 }) }
  return {
    address: p.token ?? TOKEN,
    topics: encodeEventTopics({ abi: Abis.tip20, eventName: 'TransferWithMemo', args }) as Hex[],
    data: amountData(p.amount),
  }
}
/** what `transferWithMemo` emits: Transfer, then TransferWithMemo for the same movement */
const memoTransferLogs = (p: Parameters<typeof memoLog>[0]) => [transferLog(p), memoLog(p)]

describe('transfersFromLogs', () => {
  it('uses the TIP-20 event topics', () => {
    expect(transferLog({ amount: 1n }).topics[0]).toBe(TRANSFER_TOPIC)
    expect(memoLog({ amount: 1n }).topics[0]).toBe(TRANSFER_WITH_MEMO_TOPIC)
  })

  it('reads a Transfer + TransferWithMemo pair as one memo transfer', () => {
    expect(transfersFromLogs(memoTransferLogs({ amount: 500_000n }))).toEqual([
      { token: TOKEN, from: PAYER, to: MERCHANT, amount: 500_000n, memo: MEMO },
    ])
  })

  it('keeps the trailing fee Transfer to the FeeManager as a plain transfer', () => {
    const logs = [...memoTransferLogs({ amount: 500_000n }), transferLog({ to: FEE_MANAGER, amount: 4_200n })]
    expect(transfersFromLogs(logs)).toEqual([
      { token: TOKEN, from: PAYER, to: MERCHANT, amount: 500_000n, memo: MEMO },
      { token: TOKEN, from: PAYER, to: FEE_MANAGER, amount: 4_200n },
    ])
  })

  it('reads a TransferWithMemo on its own as a memo transfer', () => {
    expect(transfersFromLogs([memoLog({ amount: 7n })])).toEqual([
      { token: TOKEN, from: PAYER, to: MERCHANT, amount: 7n, memo: MEMO },
    ])
  })

  it('keeps separate transfers separate: two memo transfers, a plain one before a memo one to the same recipient', () => {
    const second: Hex = `0x${'cd'.repeat(32)}`
    expect(
      transfersFromLogs([...memoTransferLogs({ amount: 1n }), ...memoTransferLogs({ amount: 2n, memo: second })]),
    ).toEqual([
      { token: TOKEN, from: PAYER, to: MERCHANT, amount: 1n, memo: MEMO },
      { token: TOKEN, from: PAYER, to: MERCHANT, amount: 2n, memo: second },
    ])
    // transfer(merchant, 5) then transferWithMemo(merchant, 5): three logs, two payments
    expect(transfersFromLogs([transferLog({ amount: 5n }), ...memoTransferLogs({ amount: 5n })])).toEqual([
      { token: TOKEN, from: PAYER, to: MERCHANT, amount: 5n },
      { token: TOKEN, from: PAYER, to: MERCHANT, amount: 5n, memo: MEMO },
    ])
  })

  it('does not pair a Transfer with a TransferWithMemo of another movement', () => {
    for (const differs of [
      { amount: 6n },
      { to: PAYER, amount: 5n },
      { from: MERCHANT, amount: 5n },
      { token: OTHER_TOKEN, amount: 5n },
    ]) {
      const transfers = transfersFromLogs([transferLog({ amount: 5n }), memoLog(differs)])
      expect(
        transfers,
        JSON.stringify(differs, (_, v) => (typeof v === 'bigint' ? String(v) : v)),
      ).toHaveLength(2)
      expect(transfers[0]).toEqual({ token: TOKEN, from: PAYER, to: MERCHANT, amount: 5n })
    }
  })

  it('checksums addresses and lower-cases the memo', () => {
    const log = memoLog({ amount: 1n })
    const lowered = {
      address: log.address.toLowerCase(),
      topics: log.topics.map((t) => t.toLowerCase()),
      data: log.data,
    }
    const upperMemo = { ...lowered, topics: [...lowered.topics.slice(0, 3), `0x${MEMO.slice(2).toUpperCase()}`] }
    expect(transfersFromLogs([upperMemo])).toEqual([
      { token: TOKEN, from: PAYER, to: MERCHANT, amount: 1n, memo: MEMO },
    ])
  })

  it('skips logs that are not well-formed TIP-20 transfers', () => {
    const good = transferLog({ amount: 9n })
    const memo = memoLog({ amount: 9n })
    const dirtyAddressTopic = `0x${'ff'.repeat(12)}${PAYER.slice(2)}`
    const malformed: Log[] = [
      { ...good, topics: [`0x${'12'.repeat(32)}`, ...good.topics.slice(1)] }, // another event
      { ...good, topics: [] },
      { ...good, topics: good.topics.slice(0, 2) }, // no `to`
      { ...good, topics: [...good.topics, MEMO] }, // Transfer with a fourth topic
      { ...memo, topics: memo.topics.slice(0, 3) }, // TransferWithMemo without its memo
      { ...good, topics: [good.topics[0]!, dirtyAddressTopic, good.topics[2]!] }, // not an address word
      { ...good, data: '0x' },
      { ...good, data: `${good.data}00` },
      { ...good, data: good.data.slice(0, -2) },
      { ...good, address: '0x20c0' },
    ]
    for (const log of malformed) expect(transfersFromLogs([log]), JSON.stringify(log)).toEqual([])
    // a malformed log between good ones does not hide them
    expect(transfersFromLogs([good, malformed[0]!, good])).toHaveLength(2)
  })

  it('reads nothing from no logs', () => {
    expect(transfersFromLogs([])).toEqual([])
  })
})
