import { getAddress } from 'viem'
import type { Address, Hex } from '../../config/types.js'
import type { Transfer } from './transfers.js'

/** TIP-20 event topics (tempo `crates/precompiles/src/tip20`). */
export const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
export const TRANSFER_WITH_MEMO_TOPIC = '0x57bc7354aa85aed339e000bccffabbc529466af35f0772c8f8ee1145927de7f0'

export interface Log {
  readonly address: string
  readonly topics: readonly string[]
  readonly data: string
}

function topicAddress(topic: string | undefined): Address | undefined {
  if (topic === undefined || !/^0x0{24}[0-9a-fA-F]{40}$/.test(topic)) return undefined
  return getAddress(`0x${topic.slice(26)}`)
}

function word(data: string): bigint | undefined {
  return /^0x[0-9a-fA-F]{64}$/.test(data) ? BigInt(data) : undefined
}

function decode(log: Log): Transfer | undefined {
  const [topic0, fromTopic, toTopic, memoTopic] = log.topics
  const isMemo = topic0?.toLowerCase() === TRANSFER_WITH_MEMO_TOPIC
  if (!isMemo && topic0?.toLowerCase() !== TRANSFER_TOPIC) return undefined
  if (log.topics.length !== (isMemo ? 4 : 3) || !/^0x[0-9a-fA-F]{40}$/.test(log.address)) return undefined
  const from = topicAddress(fromTopic)
  const to = topicAddress(toTopic)
  const amount = word(log.data)
  if (!from || !to || amount === undefined) return undefined
  const transfer: Transfer = { token: getAddress(log.address), from, to, amount }
  return isMemo ? { ...transfer, memo: memoTopic!.toLowerCase() as Hex } : transfer
}

/**
 * The transfers a receipt's logs record. `transferWithMemo` emits `Transfer` and then
 * `TransferWithMemo` for the same movement (tempo-testing §3), so such an adjacent pair is one
 * memo transfer, not two. The fee `Transfer` to the FeeManager is an ordinary transfer here; it
 * pays no recipient of ours, so matching ignores it.
 */
export function transfersFromLogs(logs: readonly Log[]): Transfer[] {
  const decoded = logs.map(decode)
  const transfers: Transfer[] = []
  for (let i = 0; i < decoded.length; i++) {
    const current = decoded[i]
    if (!current) continue
    const next = decoded[i + 1]
    if (current.memo === undefined && next?.memo !== undefined && sameMovement(current, next)) {
      transfers.push(next)
      i++
      continue
    }
    transfers.push(current)
  }
  return transfers
}

function sameMovement(a: Transfer, b: Transfer): boolean {
  return a.token === b.token && a.from === b.from && a.to === b.to && a.amount === b.amount
}
