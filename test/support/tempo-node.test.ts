import { Credential } from 'mppx'
import { tempo } from 'mppx/client'
import { TxEnvelopeTempo } from 'ox/tempo'
import {
  type Address,
  type Hex,
  createClient,
  decodeErrorResult,
  getAddress,
  encodeFunctionData,
  http,
  keccak256,
  maxUint256,
  pad,
  parseEventLogs,
  toHex,
} from 'viem'
import { type PrivateKeyAccount, generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { call, getChainId, getTransactionReceipt, sendRawTransactionSync } from 'viem/actions'
import { tempoModerato } from 'viem/chains'
import { Abis, Actions, Addresses, Transaction } from 'viem/tempo'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ALPHA_USD, FEE_MANAGER, PATH_USD, type TempoNode, feeInTokenUnits, startTempoNode } from './tempo-node.js'

// Pins the stand-in's node rules (research/tempo-testing.md §3, §5.3) with real signed transactions
// built by viem/tempo, plus one end-to-end payment made by the real mppx client.

let node: TempoNode
beforeAll(async () => {
  node = await startTempoNode()
})
afterAll(async () => {
  await node.close()
})
afterEach(() => {
  node.reset()
})

interface Answer {
  result?: unknown
  error?: { code: number; message: string; data?: Hex }
}
async function rpc(method: string, params: unknown[]): Promise<Answer> {
  const res = await fetch(node.rpcUrl('test'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  return (await res.json()) as Answer
}
const send = (raw: Hex) => rpc('eth_sendRawTransactionSync', [raw])

/** A fresh account holding `pathUsd` base units of pathUSD (tests share one node, so never reuse keys). */
function account(pathUsd = 0n): PrivateKeyAccount {
  const a = privateKeyToAccount(generatePrivateKey())
  if (pathUsd > 0n) node.setBalance(PATH_USD, a.address, pathUsd)
  return a
}
const stranger = () => privateKeyToAccount(generatePrivateKey()).address

function transfer(to: Address, amount: bigint, memo?: Hex) {
  const { to: token, data } = Actions.token.transfer.call({ token: PATH_USD, to, amount, ...(memo && { memo }) })
  return { to: token, data }
}

type TempoTx = Parameters<typeof Transaction.serialize>[0]
/** Signs a 0x76 transaction: expiring nonce lane, 60 s validity, fees in pathUSD, unless overridden. */
function signTempo(from: PrivateKeyAccount, tx: Partial<TempoTx>): Promise<Hex> {
  const base = {
    chainId: node.chainId,
    gas: 100_000n,
    maxFeePerGas: 30_000_000_000n,
    maxPriorityFeePerGas: 0n,
    nonceKey: maxUint256,
    nonce: 0,
    validBefore: Number(node.now()) + 60,
    feeToken: PATH_USD,
  }
  return from.signTransaction({ ...base, ...tx } as TempoTx, { serializer: Transaction.serialize })
}
/** The 0x78 handoff a sponsored payer (mppx client) produces: sender-signed, sender address in the fee-payer slot, no fee token. */
const signHandoff = (from: PrivateKeyAccount, tx: Partial<TempoTx>) =>
  signTempo(from, { ...tx, feeToken: undefined, feePayer: true })
/** What a fee payer does with a handoff: co-sign it, choosing the fee token (viem signs over the envelope's `from`). */
async function coSign(handoff: Hex, sponsor: PrivateKeyAccount, from?: Address): Promise<Hex> {
  const { feePayerSignature: _, ...tx } = Transaction.deserialize(handoff as `0x78${string}`)
  return Transaction.serialize({ ...tx, ...(from && { from }), feeToken: PATH_USD, feePayer: sponsor })
}

describe('Tempo devnet stand-in', () => {
  it('rejects a transaction signed for another chain', async () => {
    const payer = account(1_000_000n)
    const { error } = await send(await signTempo(payer, { chainId: 4217, calls: [transfer(stranger(), 1n)] }))
    expect(error).toMatchObject({ code: -32003, message: expect.stringMatching(/wrong chain id 4217/) })
  })

  it('keeps 2D nonce lanes strict: a gap is rejected, the expected nonce runs once', async () => {
    const payer = account(1_000_000n)
    const tx = (nonce: number, amount: bigint) =>
      signTempo(payer, { nonceKey: 7n, nonce, validBefore: undefined, calls: [transfer(stranger(), amount)] })
    expect((await send(await tx(1, 1n))).error).toMatchObject({
      code: -32000,
      message: expect.stringMatching(/nonce too high/),
    })
    expect((await send(await tx(0, 1n))).result).toMatchObject({ status: '0x1' })
    expect((await send(await tx(0, 2n))).error).toMatchObject({
      code: -32000,
      message: expect.stringMatching(/nonce too low/),
    })
    const getNonce = encodeFunctionData({ abi: Abis.nonce, functionName: 'getNonce', args: [payer.address, 7n] })
    expect((await rpc('eth_call', [{ to: Addresses.nonceManager, data: getNonce }])).result).toBe(
      pad('0x1', { size: 32 }),
    )
  })

  it('rejects an expiring nonce whose validBefore is beyond the 300 s window', async () => {
    const payer = account(1_000_000n)
    const { error } = await send(
      await signTempo(payer, { validBefore: Number(node.now()) + 400, calls: [transfer(stranger(), 1n)] }),
    )
    expect(error).toMatchObject({ code: -32000, message: expect.stringMatching(/more than 300s after now/) })
  })

  it('rejects a transaction once node time reaches validBefore', async () => {
    const payer = account(1_000_000n)
    const raw = await signTempo(payer, { validBefore: Number(node.now()) + 10, calls: [transfer(stranger(), 1n)] })
    node.increaseTime(10)
    try {
      expect((await send(raw)).error).toMatchObject({
        code: -32000,
        message: expect.stringMatching(/transaction expired \(validBefore/),
      })
    } finally {
      node.increaseTime(-10) // the clock offset outlives reset(); give it back for the other tests
    }
  })

  it('rejects maxFeePerGas below the base fee', async () => {
    const payer = account(1_000_000n)
    const { error } = await send(
      await signTempo(payer, { maxFeePerGas: 19_999_999_999n, calls: [transfer(stranger(), 1n)] }),
    )
    expect(error).toMatchObject({ code: -32003, message: expect.stringMatching(/below base fee 20000000000/) })
  })

  it('refuses to broadcast a 0x78 fee-payer handoff envelope', async () => {
    const payer = account(1_000_000n)
    const handoff = await signHandoff(payer, { calls: [transfer(stranger(), 1n)] })
    expect(handoff.slice(0, 4)).toBe('0x78')
    expect((await send(handoff)).error).toMatchObject({
      code: -32003,
      message: expect.stringMatching(/0x78 fee-payer handoff/),
    })
  })

  it('runs a sender transaction once, whichever sponsor co-signs it (expiring-nonce replay key ignores the fee payer)', async () => {
    const payer = account(1_000_000n)
    const [sponsorA, sponsorB] = [account(1_000_000n), account(1_000_000n)]
    const recipient = stranger()
    const handoff = await signHandoff(payer, { calls: [transfer(recipient, 400_000n)] })
    const byA = await coSign(handoff, sponsorA)
    const byB = await coSign(handoff, sponsorB)
    expect(keccak256(byA)).not.toBe(keccak256(byB))
    expect((await send(byA)).result).toMatchObject({ status: '0x1', from: payer.address, feePayer: sponsorA.address })
    expect((await send(byB)).error).toMatchObject({
      code: -32000,
      message: expect.stringMatching(/expiring nonce already used \(replay\)/),
    })
    expect(node.balanceOf(PATH_USD, recipient)).toBe(400_000n)
    expect(node.balanceOf(PATH_USD, payer.address)).toBe(600_000n) // the sponsor paid the fee
    expect(node.balanceOf(PATH_USD, sponsorB.address)).toBe(1_000_000n)
  })

  it('takes the sender from the signature, never from the address embedded in a 0x78 envelope', async () => {
    const payer = account(1_000_000n)
    const sponsor = account(1_000_000n)
    const forged = account(1_000_000n).address
    const handoff = await signHandoff(payer, { calls: [transfer(stranger(), 1_000n)] })
    const env = TxEnvelopeTempo.deserialize(handoff as TxEnvelopeTempo.Serialized)
    const forgedHandoff = TxEnvelopeTempo.serialize({ ...env, from: undefined }, { format: 'feePayer', sender: forged })
    expect(getAddress(Transaction.deserialize(forgedHandoff as `0x78${string}`).from!)).toBe(forged)
    // The sponsor commits to the forged sender; the node recovers the real one, so the co-signature recovers to a stranger.
    const { error } = await send(await coSign(forgedHandoff, sponsor))
    expect(error).toMatchObject({
      code: -32003,
      message: expect.stringMatching(/fee payer 0x[0-9a-fA-F]{40} cannot cover/),
    })
    expect(error?.message).not.toContain(sponsor.address)
    // Co-signed over the recovered signer, the same sender signature is included, as the payer.
    const { result } = await send(await coSign(forgedHandoff, sponsor, payer.address))
    expect(result).toMatchObject({ status: '0x1', from: payer.address, feePayer: sponsor.address })
    expect(node.balanceOf(PATH_USD, forged)).toBe(1_000_000n)
  })

  it('emits Transfer, then TransferWithMemo, then the fee Transfer to FeeManager for a memo transfer', async () => {
    const payer = account(1_000_000n)
    const recipient = stranger()
    const memo = `0xef1ed71201${'ab'.repeat(27)}` as Hex
    const { result } = await send(await signTempo(payer, { calls: [transfer(recipient, 250_000n, memo)] }))
    const receipt = result as {
      logs: { address: Address; topics: Hex[]; data: Hex; logIndex: Hex }[]
      gasUsed: Hex
      effectiveGasPrice: Hex
    }
    const logs = parseEventLogs({ abi: Abis.tip20, logs: receipt.logs as never })
    expect(logs.map((l) => l.eventName)).toEqual(['Transfer', 'TransferWithMemo', 'Transfer'])
    expect(logs[0]?.args).toEqual({ from: payer.address, to: recipient, amount: 250_000n })
    expect(logs[1]?.args).toEqual({ from: payer.address, to: recipient, amount: 250_000n, memo })
    expect(receipt.logs[1]?.topics[3]).toBe(memo) // memo is topic3, data is the amount (§3)
    const fee = feeInTokenUnits(BigInt(receipt.gasUsed), BigInt(receipt.effectiveGasPrice))
    expect(logs[2]?.args).toEqual({ from: payer.address, to: getAddress(FEE_MANAGER), amount: fee })
    expect(receipt.logs.map((l) => l.logIndex)).toEqual(['0x0', '0x1', '0x2'])
    expect(receipt.logs.every((l) => l.address === getAddress(PATH_USD))).toBe(true) // checksummed, like reth
  })

  it('a reverted transfer gives status 0x0, only the fee log, and still charges the fee', async () => {
    const payer = account(10_000n) // enough for the fee, not for the transfer
    const recipient = stranger()
    const calls = [transfer(recipient, 5_000_000n)]
    const estimate = await rpc('eth_estimateGas', [
      { from: payer.address, calls, nonceKey: `0x${maxUint256.toString(16)}` },
    ])
    expect(estimate.error?.code).toBe(3)
    expect(decodeErrorResult({ abi: Abis.tip20, data: estimate.error!.data! })).toMatchObject({
      errorName: 'InsufficientBalance',
      args: [10_000n, 5_000_000n, getAddress(PATH_USD)],
    })
    const { result } = await send(await signTempo(payer, { calls }))
    const receipt = result as { status: Hex; logs: { topics: Hex[] }[]; gasUsed: Hex; effectiveGasPrice: Hex }
    expect(receipt.status).toBe('0x0')
    const fee = feeInTokenUnits(BigInt(receipt.gasUsed), BigInt(receipt.effectiveGasPrice))
    expect(parseEventLogs({ abi: Abis.tip20, logs: receipt.logs as never }).map((l) => l.args)).toEqual([
      { from: payer.address, to: getAddress(FEE_MANAGER), amount: fee },
    ])
    expect(node.balanceOf(PATH_USD, payer.address)).toBe(10_000n - fee)
    expect(node.balanceOf(PATH_USD, recipient)).toBe(0n)
  })

  it('includes a sponsored transaction whose gas limit is below the estimate: out of gas, status 0x0, the sponsor pays the whole limit', async () => {
    const payer = account(1_000_000n)
    const sponsor = account(1_000_000n)
    const recipient = stranger()
    const calls = [transfer(recipient, 250_000n)]
    const estimate = await rpc('eth_estimateGas', [
      { from: payer.address, calls, nonceKey: `0x${maxUint256.toString(16)}` },
    ])
    expect(estimate.result).toBe('0x11558') // 71 000: 21 000 intrinsic + 50 000 per transfer
    const { result } = await send(await coSign(await signHandoff(payer, { calls, gas: 50_000n }), sponsor))
    const receipt = result as {
      status: Hex
      logs: { topics: Hex[] }[]
      gasUsed: Hex
      effectiveGasPrice: Hex
      feePayer: Address
    }
    expect(receipt).toMatchObject({ status: '0x0', gasUsed: '0xc350', feePayer: sponsor.address })
    const fee = feeInTokenUnits(50_000n, BigInt(receipt.effectiveGasPrice))
    expect(fee).toBe(1_000n)
    expect(parseEventLogs({ abi: Abis.tip20, logs: receipt.logs as never }).map((l) => l.args)).toEqual([
      { from: sponsor.address, to: getAddress(FEE_MANAGER), amount: fee },
    ])
    expect(node.balanceOf(PATH_USD, sponsor.address)).toBe(1_000_000n - fee)
    expect(node.balanceOf(PATH_USD, payer.address)).toBe(1_000_000n)
    expect(node.balanceOf(PATH_USD, recipient)).toBe(0n)
  })

  it('moves balances exactly through the viem actions a gateway verifier uses', async () => {
    const payer = account(2_000_000n)
    const recipient = stranger()
    const client = createClient({ chain: tempoModerato, transport: http(node.rpcUrl('gateway')) })
    const feeManagerBefore = node.balanceOf(PATH_USD, FEE_MANAGER)
    const raw = await signTempo(payer, { calls: [transfer(recipient, 1_234_567n)] })
    const sent = await sendRawTransactionSync(client, { serializedTransaction: raw })
    expect(sent).toMatchObject({ status: 'success', transactionHash: keccak256(raw), from: payer.address })
    const receipt = await getTransactionReceipt(client, { hash: sent.transactionHash })
    expect(await getChainId(client)).toBe(42431)
    const balanceOf = encodeFunctionData({ abi: Abis.tip20, functionName: 'balanceOf', args: [recipient] })
    expect((await call(client, { to: PATH_USD, data: balanceOf })).data).toBe(pad('0x12d687', { size: 32 }))
    // 21 000 + 50 000 per transfer at the base fee (the approximate schedule), in token units = ceil(gas × price / 1e12).
    expect(receipt.gasUsed).toBe(71_000n)
    const fee = feeInTokenUnits(receipt.gasUsed, receipt.effectiveGasPrice)
    expect(fee).toBe(1_420n)
    expect(node.balanceOf(PATH_USD, payer.address)).toBe(2_000_000n - 1_234_567n - fee)
    expect(node.balanceOf(PATH_USD, recipient)).toBe(1_234_567n)
    expect(node.balanceOf(PATH_USD, FEE_MANAGER) - feeManagerBefore).toBe(fee)
    expect(node.receipt(sent.transactionHash)).toMatchObject({
      feePayer: payer.address,
      feeToken: getAddress(PATH_USD),
    })
    expect(node.methodsCalledBy('gateway')).toEqual([
      'eth_sendRawTransactionSync',
      'eth_getTransactionReceipt',
      'eth_chainId',
      'eth_call',
    ])
  })

  it('answers null for the receipt of an unknown hash (viem: TransactionReceiptNotFoundError)', async () => {
    const hash = keccak256('0x1234')
    expect(await rpc('eth_getTransactionReceipt', [hash])).toMatchObject({ result: null })
    const client = createClient({ chain: tempoModerato, transport: http(node.rpcUrl('gateway')) })
    await expect(getTransactionReceipt(client, { hash })).rejects.toMatchObject({
      name: 'TransactionReceiptNotFoundError',
    })
  })

  it('faults.down drops every connection, so viem throws an HTTP error; faults.delayMs delays answers', async () => {
    node.faults.down = true
    const client = createClient({ chain: tempoModerato, transport: http(node.rpcUrl('gateway'), { retryCount: 0 }) })
    await expect(getChainId(client)).rejects.toMatchObject({ name: 'HttpRequestError' })
    expect(node.calls).toEqual([]) // a dropped request never reached the node
    node.reset()
    node.faults.delayMs = 150
    const started = Date.now()
    expect(await getChainId(client)).toBe(42431)
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
  })

  it('faults.loseAnswerNext executes the named method, then drops the answer; other methods still answer', async () => {
    node.faults.loseAnswerNext = 1
    node.faults.loseAnswerMethods = ['eth_blockNumber']
    const client = createClient({ chain: tempoModerato, transport: http(node.rpcUrl('gateway'), { retryCount: 0 }) })
    expect(await getChainId(client)).toBe(42431)
    await expect(rpc('eth_blockNumber', [])).rejects.toThrow()
    expect(node.calls.map((c) => c.method)).toEqual(['eth_chainId', 'eth_blockNumber']) // it did arrive
    expect(node.faults.loseAnswerNext).toBe(0)
    expect(await rpc('eth_blockNumber', [])).toMatchObject({ result: expect.stringMatching(/^0x/) })
  })

  it('accepts a plain 0x02 TIP-20 transfer (protocol nonce) and charges its fee in the called token', async () => {
    const payer = account()
    node.setBalance(ALPHA_USD, payer.address, 1_000_000n)
    const recipient = stranger()
    const { data } = Actions.token.transfer.call({ token: ALPHA_USD, to: recipient, amount: 300_000n })
    const sign = (nonce: number) =>
      payer.signTransaction({
        type: 'eip1559',
        chainId: node.chainId,
        to: ALPHA_USD,
        data,
        gas: 100_000n,
        maxFeePerGas: 30_000_000_000n,
        maxPriorityFeePerGas: 0n,
        nonce,
      })
    const { result } = await send(await sign(0))
    expect(result).toMatchObject({ type: '0x2', status: '0x1', from: payer.address, feeToken: getAddress(ALPHA_USD) })
    expect(node.balanceOf(ALPHA_USD, recipient)).toBe(300_000n)
    expect(node.balanceOf(PATH_USD, payer.address)).toBe(0n)
    expect((await rpc('eth_getTransactionCount', [payer.address, 'latest'])).result).toBe('0x1')
    expect((await send(await sign(0))).error).toMatchObject({ code: -32000 }) // already known
  })

  it('lets the real mppx client pay a push charge through it', async () => {
    const payer = account(5_000_000n)
    const recipient = stranger()
    const method = tempo.charge({
      account: payer,
      getClient: () => createClient({ chain: tempoModerato, transport: http(node.rpcUrl('client')) }),
      mode: 'push',
    })
    const challenge = {
      id: 'ch_standin_push_1',
      realm: 'api.example.test',
      method: 'tempo',
      intent: 'charge',
      request: { amount: '500000', currency: PATH_USD, recipient, methodDetails: { chainId: 42431 } },
      expires: new Date(Date.now() + 60_000).toISOString(),
    }
    const serialized = await method.createCredential({ challenge, context: {} } as unknown as Parameters<
      typeof method.createCredential
    >[0])
    const credential = Credential.deserialize<{ type: string; hash: Hex }>(serialized)
    expect(credential.payload.type).toBe('hash')
    const receipt = node.receipt(credential.payload.hash)
    expect(receipt).toMatchObject({
      status: '0x1',
      from: payer.address,
      feePayer: payer.address,
      feeToken: getAddress(PATH_USD),
    })
    const fee = feeInTokenUnits(BigInt(receipt!.gasUsed), BigInt(receipt!.effectiveGasPrice))
    expect(node.balanceOf(PATH_USD, recipient)).toBe(500_000n)
    expect(node.balanceOf(PATH_USD, payer.address)).toBe(5_000_000n - 500_000n - fee)
    // mppx always pays with transferWithMemo + its attribution memo (§4): Transfer, TransferWithMemo, fee Transfer.
    expect(receipt!.logs).toHaveLength(3)
    expect(node.methodsCalledBy('client')).toContain('eth_fillTransaction')
    expect(node.methodsCalledBy('client').at(-1)).toBe('eth_sendRawTransactionSync')
  })

  describe('refunds: an operator wallet pays back a payer', () => {
    /** a bytes32 memo naming the challenge a refund is for */
    const refundMemo = (challengeId: string) => pad(toHex(`refund:${challengeId}`), { dir: 'right', size: 32 })
    /** the payer pays the operator `amount`, as a push payment would; resolves to the payer's fee */
    async function pay(payer: PrivateKeyAccount, operator: Address, amount: bigint): Promise<bigint> {
      const { result } = await send(await signTempo(payer, { calls: [transfer(operator, amount, refundMemo('pay'))] }))
      const receipt = result as { status: Hex; gasUsed: Hex; effectiveGasPrice: Hex }
      expect(receipt.status).toBe('0x1')
      return feeInTokenUnits(BigInt(receipt.gasUsed), BigInt(receipt.effectiveGasPrice))
    }

    it('a signed transferWithMemo back to the payer goes through: logs name the memo, balances move exactly', async () => {
      const payer = account(1_000_000n)
      const operator = account()
      const payFee = await pay(payer, operator.address, 250_000n)
      const memo = refundMemo('ch_refund_1')
      const { result } = await send(await signTempo(operator, { calls: [transfer(payer.address, 100_000n, memo)] }))
      const receipt = result as {
        status: Hex
        from: Address
        feePayer: Address
        logs: { topics: Hex[]; data: Hex }[]
        gasUsed: Hex
        effectiveGasPrice: Hex
      }
      expect(receipt).toMatchObject({ status: '0x1', from: operator.address, feePayer: operator.address })
      const refundFee = feeInTokenUnits(BigInt(receipt.gasUsed), BigInt(receipt.effectiveGasPrice))
      expect(parseEventLogs({ abi: Abis.tip20, logs: receipt.logs as never }).map((l) => l.args)).toEqual([
        { from: operator.address, to: payer.address, amount: 100_000n },
        { from: operator.address, to: payer.address, amount: 100_000n, memo },
        { from: operator.address, to: getAddress(FEE_MANAGER), amount: refundFee },
      ])
      expect(node.balanceOf(PATH_USD, payer.address)).toBe(1_000_000n - 250_000n - payFee + 100_000n)
      expect(node.balanceOf(PATH_USD, operator.address)).toBe(250_000n - 100_000n - refundFee)
    })

    it('a refund over the operator balance reverts (status 0x0): the payer gets nothing, the operator pays the fee', async () => {
      const payer = account(1_000_000n)
      const operator = account()
      await pay(payer, operator.address, 50_000n)
      const payerBefore = node.balanceOf(PATH_USD, payer.address)
      const { result } = await send(
        await signTempo(operator, { calls: [transfer(payer.address, 60_000n, refundMemo('ch_refund_2'))] }),
      )
      const receipt = result as { status: Hex; logs: unknown[]; gasUsed: Hex; effectiveGasPrice: Hex }
      expect(receipt.status).toBe('0x0')
      expect(receipt.logs).toHaveLength(1) // the fee Transfer only
      const fee = feeInTokenUnits(BigInt(receipt.gasUsed), BigInt(receipt.effectiveGasPrice))
      expect(node.balanceOf(PATH_USD, payer.address)).toBe(payerBefore)
      expect(node.balanceOf(PATH_USD, operator.address)).toBe(50_000n - fee)
    })

    it("viem's wallet path (Actions.token.transferSync, filled locally) pays a refund, as a refunder module would send it", async () => {
      const payer = account(1_000_000n)
      const operator = account()
      await pay(payer, operator.address, 300_000n)
      const payerBefore = node.balanceOf(PATH_USD, payer.address)
      const client = createClient({
        account: operator,
        chain: tempoModerato.extend({ feeToken: PATH_USD }),
        transport: http(node.rpcUrl('refunder'), { retryCount: 0 }),
      })
      const memo = refundMemo('ch_refund_3')
      const sent = await Actions.token.transferSync(client, {
        token: PATH_USD,
        to: payer.address,
        amount: 120_000n,
        memo,
      })
      expect(sent).toMatchObject({ from: operator.address, to: payer.address, amount: 120_000n })
      expect(sent.receipt.status).toBe('success')
      const fee = feeInTokenUnits(sent.receipt.gasUsed, sent.receipt.effectiveGasPrice)
      expect(node.balanceOf(PATH_USD, payer.address)).toBe(payerBefore + 120_000n)
      expect(node.balanceOf(PATH_USD, operator.address)).toBe(300_000n - 120_000n - fee)
      expect(node.methodsCalledBy('refunder').at(-1)).toBe('eth_sendRawTransactionSync')
    })
  })
})
