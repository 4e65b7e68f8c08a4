import http from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  BaseError,
  HttpRequestError,
  InternalRpcError,
  InvalidInputRpcError,
  InvalidRequestRpcError,
  LimitExceededRpcError,
  MethodNotFoundRpcError,
  MethodNotSupportedRpcError,
  ResourceUnavailableRpcError,
  RpcRequestError,
  TimeoutError,
  TransactionReceiptNotFoundError,
  TransactionRejectedRpcError,
  UnknownRpcError,
} from 'viem'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Hex } from '../../config/types.js'
import { BackendUnavailable, PaymentRefused } from '../../core/method.js'
import { classifyRpcError, createTempoRpc } from './rpc.js'

const URL_ = 'http://127.0.0.1:8545'
const body = { method: 'eth_sendRawTransactionSync', params: ['0x76'] }
const nodeError = (code: number, message: string) => new RpcRequestError({ body, url: URL_, error: { code, message } })
const HASH: Hex = `0x${'ab'.repeat(32)}`

describe('classifyRpcError', () => {
  it('reports a timeout as the node being unavailable, with the time allowed', () => {
    const result = classifyRpcError(new TimeoutError({ body, url: URL_ }), 'broadcast', 1500)
    expect(result).toBeInstanceOf(BackendUnavailable)
    expect(result.message).toContain('broadcast')
    expect(result.message).toContain('1500 ms')
  })

  it('reports an HTTP failure as the node being unreachable', () => {
    const result = classifyRpcError(
      new HttpRequestError({ url: URL_, status: 502, body, details: 'Bad Gateway' }),
      'receipt lookup',
      1000,
    )
    expect(result).toBeInstanceOf(BackendUnavailable)
    expect(result.message).toContain('receipt lookup')
  })

  it("reports the node's own trouble as unavailable, not as the payer's fault", () => {
    const trouble = [
      new InternalRpcError(nodeError(-32603, 'internal error')),
      new LimitExceededRpcError(nodeError(-32005, 'rate limited')),
      new ResourceUnavailableRpcError(nodeError(-32002, 'busy')),
      new MethodNotFoundRpcError(nodeError(-32601, 'the method eth_sendRawTransactionSync does not exist')),
      new MethodNotSupportedRpcError(nodeError(-32004, 'not supported')),
      new InvalidRequestRpcError(nodeError(-32600, 'invalid request')),
    ]
    for (const error of trouble) {
      const result = classifyRpcError(error, 'broadcast', 1000)
      expect(result, error.name).toBeInstanceOf(BackendUnavailable)
      expect(result.message).toContain(`JSON-RPC error ${error.code}`)
    }
  })

  it("refuses the payment when the node rejects the transaction, with the node's reason", () => {
    const rejected = [
      new TransactionRejectedRpcError(nodeError(-32003, 'insufficient funds for gas * price + value')),
      new InvalidInputRpcError(nodeError(-32000, 'nonce too low')),
      new UnknownRpcError(nodeError(3, 'execution reverted: InsufficientBalance')),
    ]
    const reasons = [
      'insufficient funds for gas * price + value',
      'nonce too low',
      'execution reverted: InsufficientBalance',
    ]
    rejected.forEach((error, i) => {
      const result = classifyRpcError(error, 'broadcast', 1000)
      expect(result, error.name).toBeInstanceOf(PaymentRefused)
      expect((result as PaymentRefused).problem).toBe('verification-failed')
      expect((result as PaymentRefused).detail).toContain(reasons[i])
    })
  })

  it('elides a raw transaction the node echoes back, and cuts a long reason short', () => {
    const raw = `0x76${'f8'.repeat(150)}`
    const echoed = classifyRpcError(
      new TransactionRejectedRpcError(nodeError(-32003, `invalid transaction ${raw}: bad signature`)),
      'broadcast',
      1000,
    ) as PaymentRefused
    expect(echoed).toBeInstanceOf(PaymentRefused)
    expect(echoed.detail).not.toContain(raw.slice(0, 60))
    expect(echoed.detail).toContain('invalid transaction 0x…: bad signature')
    const long = classifyRpcError(
      new TransactionRejectedRpcError(nodeError(-32003, 'x'.repeat(1000))),
      'broadcast',
      1000,
    ) as PaymentRefused
    expect(long.detail.length).toBeLessThan(400)
    expect(long.detail.endsWith('…')).toBe(true)
  })

  it('finds the cause wherever viem wraps it', () => {
    const wrapped = new BaseError('Transaction failed.', {
      cause: new TransactionRejectedRpcError(nodeError(-32003, 'gas limit too low')),
    })
    expect(classifyRpcError(wrapped, 'broadcast', 1000)).toBeInstanceOf(PaymentRefused)
    const timeout = new BaseError('Request failed.', { cause: new TimeoutError({ body, url: URL_ }) })
    expect(classifyRpcError(timeout, 'broadcast', 1000)).toBeInstanceOf(BackendUnavailable)
  })

  it('treats any other viem error as an unusable answer, and passes non-viem errors through', () => {
    expect(classifyRpcError(new BaseError('Cannot decode the result.'), 'balance lookup', 1000)).toBeInstanceOf(
      BackendUnavailable,
    )
    const bug = new TypeError('x is undefined')
    expect(classifyRpcError(bug, 'broadcast', 1000)).toBe(bug)
    const notFound = classifyRpcError(new TransactionReceiptNotFoundError({ hash: HASH }), 'receipt lookup', 1000)
    expect(notFound).not.toBeInstanceOf(BackendUnavailable)
    expect(notFound).not.toBeInstanceOf(PaymentRefused)
  })
})

/** createTempoRpc through its HTTP client and viem's actions, against a scripted JSON-RPC endpoint on loopback. */
describe('createTempoRpc', () => {
  type Answer = { result: unknown } | { error: { code: number; message: string } } | { status: number } | 'hang'
  let answer: (method: string, params: unknown[]) => Answer
  const received: string[] = []
  let server: http.Server
  let url: string

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let text = ''
      req.on('data', (chunk) => (text += chunk))
      req.on('end', () => {
        const request = JSON.parse(text) as { id: number; method: string; params: unknown[] }
        received.push(request.method)
        const reply = answer(request.method, request.params)
        if (reply === 'hang') return
        if ('status' in reply) {
          res.writeHead(reply.status).end('upstream failed')
          return
        }
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', id: request.id, ...reply }))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  beforeEach(() => {
    received.length = 0
  })

  const receipt = {
    transactionHash: HASH,
    transactionIndex: '0x0',
    blockHash: `0x${'cd'.repeat(32)}`,
    blockNumber: '0x1',
    from: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
    to: '0x20c0000000000000000000000000000000000000',
    contractAddress: null,
    status: '0x1',
    type: '0x76',
    logs: [],
    logsBloom: `0x${'00'.repeat(256)}`,
    gasUsed: '0x5208',
    cumulativeGasUsed: '0x5208',
    effectiveGasPrice: '0x4a817c800',
  }

  it('answers a receipt, no receipt, a balance and the chain id', async () => {
    const rpc = createTempoRpc(url, 2000)
    answer = (method, params) => {
      if (method === 'eth_getTransactionReceipt') return { result: params[0] === HASH ? receipt : null }
      if (method === 'eth_call') return { result: `0x${1_234_567n.toString(16).padStart(64, '0')}` }
      if (method === 'eth_chainId') return { result: '0xa5bf' }
      return { error: { code: -32601, message: 'no such method' } }
    }
    expect((await rpc.getTransactionReceipt(HASH))?.status).toBe('success')
    expect(await rpc.getTransactionReceipt(`0x${'00'.repeat(32)}`)).toBeUndefined()
    expect(
      await rpc.balanceOf('0x20c0000000000000000000000000000000000000', '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'),
    ).toBe(1_234_567n)
    expect(await rpc.chainId()).toBe(42431)
  })

  it('broadcasts once with eth_sendRawTransactionSync, without retrying a failure', async () => {
    const rpc = createTempoRpc(url, 2000)
    answer = (method) =>
      method === 'eth_sendRawTransactionSync' ? { result: receipt } : { error: { code: -32601, message: 'no' } }
    expect((await rpc.sendRawTransactionSync('0x76c0')).transactionHash).toBe(HASH)
    expect(received).toEqual(['eth_sendRawTransactionSync'])

    received.length = 0
    answer = () => ({ error: { code: -32003, message: 'transaction rejected: insufficient funds' } })
    const refused = await rpc.sendRawTransactionSync('0x76c0').catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(PaymentRefused)
    expect((refused as PaymentRefused).detail).toContain('insufficient funds')
    received.length = 0
    answer = () => ({ status: 503 })
    expect(await rpc.sendRawTransactionSync('0x76c0').catch((e: unknown) => e)).toBeInstanceOf(BackendUnavailable)
    expect(received).toEqual(['eth_sendRawTransactionSync'])
  })

  it('gives up after the timeout, and reports an unreachable node, both as unavailable', async () => {
    answer = () => 'hang'
    const slow = await createTempoRpc(url, 150)
      .getTransactionReceipt(HASH)
      .catch((e: unknown) => e)
    expect(slow).toBeInstanceOf(BackendUnavailable)
    expect((slow as Error).message).toContain('150 ms')
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    expect(
      await createTempoRpc(`http://127.0.0.1:${port}`, 1000)
        .chainId()
        .catch((e: unknown) => e),
    ).toBeInstanceOf(BackendUnavailable)
  })
})
