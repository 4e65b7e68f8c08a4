import {
  BaseError,
  createClient,
  HttpRequestError,
  http,
  RpcError,
  TimeoutError,
  TransactionReceiptNotFoundError,
  type TransactionReceipt,
} from 'viem'
import { getBlock, getChainId, getTransactionReceipt, readContract, sendRawTransactionSync } from 'viem/actions'
import type { Address, Hex } from '../../config/types.js'
import { BackendUnavailable, PaymentRefused } from '../types.js'

/** The JSON-RPC calls the tempo method makes: a narrow edge, so tests see exactly what goes out. */
export interface TempoRpc {
  /** broadcasts and waits for inclusion (`eth_sendRawTransactionSync`, EIP-7966) */
  sendRawTransactionSync(serialized: Hex): Promise<TransactionReceipt>
  /** undefined when the node knows no such transaction */
  getTransactionReceipt(hash: Hex): Promise<TransactionReceipt | undefined>
  balanceOf(token: Address, account: Address): Promise<bigint>
  chainId(): Promise<number>
  /** the timestamp of a block, unix seconds */
  blockTime(blockNumber: bigint): Promise<number>
}

const BALANCE_OF_ABI = [
  { type: 'function', name: 'balanceOf', stateMutability: 'view', inputs: [{ name: 'account', type: 'address' }], outputs: [{ type: 'uint256' }] },
] as const

/**
 * JSON-RPC codes that describe the node's own trouble rather than the transaction (EIP-1474):
 * internal error, limit exceeded, resource unavailable, method not found / not supported,
 * and malformed requests (which would be ours).
 */
const NODE_TROUBLE_CODES = new Set([-32603, -32005, -32002, -32601, -32004, -32006, -32700, -32600])
const REASON_MAX = 200

export function createTempoRpc(url: string, timeoutMs: number): TempoRpc {
  // No retries: the payer holds a connection open, and retrying is theirs to do with the same credential.
  const client = createClient({ transport: http(url, { timeout: timeoutMs, retryCount: 0 }) })
  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (error) {
      throw classifyRpcError(error, what, timeoutMs)
    }
  }
  return {
    sendRawTransactionSync: (serialized) => call('broadcast', () => sendRawTransactionSync(client, { serializedTransaction: serialized })),
    getTransactionReceipt: async (hash) => {
      try {
        return await call('receipt lookup', () => getTransactionReceipt(client, { hash }))
      } catch (error) {
        if (error instanceof NotFound) return undefined
        throw error
      }
    },
    balanceOf: (token, account) => call('balance lookup', () => readContract(client, { address: token, abi: BALANCE_OF_ABI, functionName: 'balanceOf', args: [account] })),
    chainId: () => call('chain id lookup', () => getChainId(client)),
    blockTime: async (blockNumber) => Number((await call('block lookup', () => getBlock(client, { blockNumber }))).timestamp),
  }
}

class NotFound extends Error {}

/**
 * Maps a failed RPC call by viem error class and JSON-RPC code, never by message text (node
 * messages differ between versions): the node unreachable or in trouble → 503; the node
 * refusing the transaction → 402 `verification-failed` carrying its reason.
 */
export function classifyRpcError(error: unknown, what: string, timeoutMs: number): Error {
  if (!(error instanceof BaseError)) return error instanceof Error ? error : new Error(String(error))
  if (error instanceof TransactionReceiptNotFoundError) return new NotFound()
  if (error.walk((e) => e instanceof TimeoutError)) return new BackendUnavailable('tempo-rpc', `The Tempo node did not answer the ${what} within ${timeoutMs} ms.`)
  const rpc = error.walk((e) => e instanceof RpcError) as RpcError | null
  if (rpc) {
    if (NODE_TROUBLE_CODES.has(rpc.code)) return new BackendUnavailable('tempo-rpc', `The Tempo node failed the ${what} (JSON-RPC error ${rpc.code}).`)
    return new PaymentRefused('verification-failed', `The Tempo node rejected the transaction (JSON-RPC error ${rpc.code}): ${reason(rpc)}`)
  }
  if (error.walk((e) => e instanceof HttpRequestError)) return new BackendUnavailable('tempo-rpc', `Could not reach the Tempo node for the ${what}.`)
  return new BackendUnavailable('tempo-rpc', `The Tempo node gave an unusable answer to the ${what}.`)
}

/** The node's own words, cut short and with long hex (a raw transaction) elided. */
function reason(error: RpcError): string {
  const text = (error.details || error.shortMessage || 'no reason given').replace(/0x[0-9a-fA-F]{80,}/g, '0x…')
  return text.length <= REASON_MAX ? text : `${text.slice(0, REASON_MAX - 1)}…`
}
