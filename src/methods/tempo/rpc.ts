import http from 'node:http'
import https from 'node:https'
import {
  BaseError,
  createClient,
  custom,
  HttpRequestError,
  RpcError,
  RpcRequestError,
  TimeoutError,
  TransactionReceiptNotFoundError,
  type TransactionReceipt,
} from 'viem'
import { getBlock, getChainId, getTransactionReceipt, readContract, sendRawTransactionSync } from 'viem/actions'
import type { Address, Hex } from '../../config/types.js'
import { BackendUnavailable, PaymentRefused } from '../../core/method.js'

/** The JSON-RPC calls the tempo method makes: a narrow edge, so tests see exactly what goes out. */
export interface TempoRpc {
  /** broadcasts and waits for inclusion (`eth_sendRawTransactionSync`, EIP-7966) */
  sendRawTransactionSync(serialized: Hex): Promise<TransactionReceipt>
  /** undefined when the node knows no such transaction */
  getTransactionReceipt(hash: Hex): Promise<TransactionReceipt | undefined>
  balanceOf(token: Address, account: Address): Promise<bigint>
  /** `eth_estimateGas` of a Tempo request; a revert rejects with PaymentRefused (JSON-RPC code 3) */
  estimateGas(request: TempoCallRequest): Promise<bigint>
  chainId(): Promise<number>
  /** the timestamp of a block, unix seconds */
  blockTime(blockNumber: bigint): Promise<number>
}

/** A Tempo transaction request as `eth_estimateGas` takes it: the calls, run as `from`. */
export interface TempoCallRequest {
  readonly from: Address
  readonly calls: ReadonlyArray<{ readonly to: Address; readonly data: Hex }>
  readonly nonceKey?: bigint
  readonly feeToken?: Address
  /** the sponsor, for a sponsored transaction (as mppx's sponsored eth_call sends it) */
  readonly feePayer?: Address
}

const BALANCE_OF_ABI = [
  {
    type: 'function',
    name: 'balanceOf',
    stateMutability: 'view',
    inputs: [{ name: 'account', type: 'address' }],
    outputs: [{ type: 'uint256' }],
  },
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
  const client = createClient({ transport: custom({ request: jsonRpcOverHttp(url, timeoutMs) }, { retryCount: 0 }) })
  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (error) {
      throw classifyRpcError(error, what, timeoutMs)
    }
  }
  return {
    sendRawTransactionSync: (serialized) =>
      call('broadcast', () => sendRawTransactionSync(client, { serializedTransaction: serialized })),
    getTransactionReceipt: async (hash) => {
      try {
        return await call('receipt lookup', () => getTransactionReceipt(client, { hash }))
      } catch (error) {
        if (error instanceof NotFound) return undefined
        throw error
      }
    },
    balanceOf: (token, account) =>
      call('balance lookup', () =>
        readContract(client, { address: token, abi: BALANCE_OF_ABI, functionName: 'balanceOf', args: [account] }),
      ),
    estimateGas: async (request) => {
      const params = {
        from: request.from,
        calls: request.calls.map((c) => ({ to: c.to, data: c.data, value: '0x0' })),
        ...(request.nonceKey !== undefined && { nonceKey: `0x${request.nonceKey.toString(16)}` }),
        ...(request.feeToken && { feeToken: request.feeToken }),
        ...(request.feePayer && { feePayer: request.feePayer }),
      }
      const gas = await call('simulation', () =>
        client.request({ method: 'eth_estimateGas', params: [params] } as never),
      )
      if (typeof gas !== 'string' || !/^0x[0-9a-fA-F]+$/.test(gas))
        throw new BackendUnavailable('tempo-rpc', 'The Tempo node gave an unusable answer to the simulation.')
      return BigInt(gas)
    },
    chainId: () => call('chain id lookup', () => getChainId(client)),
    blockTime: async (blockNumber) =>
      Number((await call('block lookup', () => getBlock(client, { blockNumber }))).timestamp),
  }
}

class NotFound extends Error {}

/** The most of a node's answer read into memory (a receipt with many logs is well under it). */
const MAX_ANSWER_BYTES = 10 * 1024 * 1024

/**
 * One JSON-RPC call per POST over a pooled keep-alive node:http client, failing with viem's own
 * error classes (HttpRequestError, TimeoutError, RpcRequestError) so viem's actions and
 * classifyRpcError see what viem's http transport would give them. That transport builds a fetch
 * Request, a WHATWG stream and an eager TimeoutError (message and stack) for every call: most of
 * the gateway's CPU and garbage on a Tempo push payment went there.
 */
function jsonRpcOverHttp(url: string, timeoutMs: number) {
  const target = new URL(url)
  const transport = target.protocol === 'https:' ? https : http
  const agent = new transport.Agent({ keepAlive: true })
  let nextId = 0
  return ({ method, params }: { method: string; params?: unknown }): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const body = { method, params }
      const payload = JSON.stringify({ jsonrpc: '2.0', id: ++nextId, method, params })
      let settled = false
      const fail = (error: Error) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        request.destroy()
        reject(error)
      }
      const request = transport.request(
        target,
        {
          agent,
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
        },
        (response) => {
          const chunks: Buffer[] = []
          let size = 0
          response.on('data', (chunk: Buffer) => {
            size += chunk.length
            if (size > MAX_ANSWER_BYTES)
              return fail(
                new HttpRequestError({
                  body,
                  url,
                  status: response.statusCode,
                  details: `answer larger than ${MAX_ANSWER_BYTES} bytes`,
                }),
              )
            chunks.push(chunk)
          })
          response.on('error', (error) =>
            fail(
              new HttpRequestError({ body, url, status: response.statusCode, details: error.message, cause: error }),
            ),
          )
          response.on('end', () => {
            if (settled) return
            const text = Buffer.concat(chunks).toString('utf8')
            const status = response.statusCode ?? 0
            let answer: { result?: unknown; error?: { code: number; message: string; data?: unknown } } | undefined
            try {
              answer = JSON.parse(text) as typeof answer
            } catch {
              answer = undefined
            }
            if (status < 200 || status > 299 || !answer || typeof answer !== 'object')
              return fail(new HttpRequestError({ body, url, status, details: text.slice(0, 200) }))
            settled = true
            clearTimeout(timer)
            if (answer.error) reject(new RpcRequestError({ body, url, error: answer.error }))
            else resolve(answer.result)
          })
        },
      )
      const timer = setTimeout(() => fail(new TimeoutError({ body, url })), timeoutMs)
      request.on('error', (error) => fail(new HttpRequestError({ body, url, details: error.message, cause: error })))
      request.end(payload)
    })
}

/**
 * Maps a failed RPC call by viem error class and JSON-RPC code, never by message text (node
 * messages differ between versions): the node unreachable or in trouble → 503; the node
 * refusing the transaction → 402 `verification-failed` carrying its reason.
 */
export function classifyRpcError(error: unknown, what: string, timeoutMs: number): Error {
  if (!(error instanceof BaseError)) return error instanceof Error ? error : new Error(String(error))
  if (error instanceof TransactionReceiptNotFoundError) return new NotFound()
  if (error.walk((e) => e instanceof TimeoutError))
    return new BackendUnavailable('tempo-rpc', `The Tempo node did not answer the ${what} within ${timeoutMs} ms.`)
  const rpc = error.walk((e) => e instanceof RpcError) as RpcError | null
  if (rpc) {
    if (NODE_TROUBLE_CODES.has(rpc.code))
      return new BackendUnavailable('tempo-rpc', `The Tempo node failed the ${what} (JSON-RPC error ${rpc.code}).`)
    return new PaymentRefused(
      'verification-failed',
      `The Tempo node rejected the transaction (JSON-RPC error ${rpc.code}): ${reason(rpc)}`,
    )
  }
  if (error.walk((e) => e instanceof HttpRequestError))
    return new BackendUnavailable('tempo-rpc', `Could not reach the Tempo node for the ${what}.`)
  return new BackendUnavailable('tempo-rpc', `The Tempo node gave an unusable answer to the ${what}.`)
}

/** The node's own words, cut short and with long hex (a raw transaction) elided. */
function reason(error: RpcError): string {
  const text = (error.details || error.shortMessage || 'no reason given').replace(/0x[0-9a-fA-F]{80,}/g, '0x…')
  return text.length <= REASON_MAX ? text : `${text.slice(0, REASON_MAX - 1)}…`
}
