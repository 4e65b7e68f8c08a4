import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Secp256k1 } from 'ox'
import { SignatureEnvelope, TxEnvelopeTempo } from 'ox/tempo'
import {
  type Address,
  type Hex,
  concat,
  decodeFunctionData,
  encodeAbiParameters,
  encodeErrorResult,
  encodeEventTopics,
  encodeFunctionResult,
} from 'viem'
import {
  getAddress,
  isAddressEqual,
  keccak256,
  maxUint256,
  pad,
  parseTransaction,
  recoverTransactionAddress,
  stringToHex,
  toHex,
  zeroAddress,
} from 'viem'
import { Abis, Addresses } from 'viem/tempo'

/**
 * A Tempo devnet stand-in: an in-memory JSON-RPC node (node:http on 127.0.0.1) that decodes and
 * validates REAL signed Tempo transactions (0x76, and plain 0x02) with viem/ox, keeps TIP-20
 * balances, 2D and expiring nonces, and answers receipts in Tempo's exact log layout. Each node
 * rule cites the fact it follows in research/tempo-testing.md (§3 TIP-20, §5.3 validation order).
 * What it deliberately does not emulate is listed in test/support/README.md (§5.5).
 */

export const PATH_USD: Address = '0x20c0000000000000000000000000000000000000'
export const ALPHA_USD: Address = '0x20c0000000000000000000000000000000000001'
export const FEE_MANAGER: Address = '0xfeec000000000000000000000000000000000000'

export interface TempoNodeOptions {
  /** default 42431 (Moderato, so mppx defaults apply) */
  chainId?: number
  /** TIP-20 tokens that exist; default [PATH_USD, ALPHA_USD] */
  tokens?: Address[]
  /** default 20_000_000_000n (attodollars per gas) */
  baseFeePerGas?: bigint
  /** expiring-nonce window (TIP-1009 MAX_EXPIRY), default 300 */
  maxExpirySecs?: number
  /** port on 127.0.0.1; default 0 (a free one) */
  port?: number
}
export interface RpcCall {
  tag: string
  method: string
  params: unknown[]
}
export interface TempoNode {
  /** 'http://127.0.0.1:<port>' */
  readonly url: string
  readonly chainId: number
  /** `${url}/${tag}`: the path tags the caller in the call log */
  rpcUrl(tag: string): string
  /** every request answered, in order (requests dropped by `faults.down` never arrive) */
  readonly calls: RpcCall[]
  methodsCalledBy(tag: string): string[]
  setBalance(token: Address, account: Address, amount: bigint): void
  balanceOf(token: Address, account: Address): bigint
  setUserFeeToken(account: Address, token: Address): void
  /** the node's clock = wall clock + offset; negative values turn it back */
  increaseTime(seconds: number): void
  /** node time, unix seconds */
  now(): bigint
  /** transactions included so far, by hash (the RPC-shaped receipt) */
  receipt(hash: Hex): RpcReceipt | undefined
  /** calls `listener` with each transaction's receipt as it is included (a watcher such as Stripe's); returns the unsubscribe */
  onInclude(listener: (receipt: RpcReceipt) => void): () => void
  readonly faults: {
    /** answer every request by destroying the socket (node unreachable) */
    down: boolean
    /** delay every answer by this many ms */
    delayMs: number
    /**
     * execute the next this-many requests that call one of `loseAnswerMethods` (all methods when
     * empty), then destroy the socket without answering: the work is done, the caller never hears
     */
    loseAnswerNext: number
    loseAnswerMethods: string[]
  }
  /** clears the call log and the faults only: balances, nonces, receipts and the clock stay (tests share a node) */
  reset(): void
  close(): Promise<void>
}

// ---------------------------------------------------------------------------------------------
// Pure helpers: Tempo's log and receipt layout, reusable as fixtures without a server.

/** A log as the TIP-20 precompile emits it (no block position yet). */
export interface TempoLog {
  address: Address
  topics: Hex[]
  data: Hex
}
export interface RpcLog extends TempoLog {
  blockNumber: Hex
  blockHash: Hex
  transactionHash: Hex
  transactionIndex: Hex
  logIndex: Hex
  removed: false
}
export interface RpcReceipt {
  transactionHash: Hex
  transactionIndex: Hex
  blockHash: Hex
  blockNumber: Hex
  from: Address
  to: Address | null
  contractAddress: null
  status: '0x1' | '0x0'
  type: Hex
  logs: RpcLog[]
  logsBloom: Hex
  gasUsed: Hex
  cumulativeGasUsed: Hex
  effectiveGasPrice: Hex
  feePayer: Address
  feeToken: Address
}

/** Gas prices are attodollars (1e-18 USD) per gas; TIP-20 units are 1e-6 USD (§3 "Fee units"). */
const ATTODOLLARS_PER_UNIT = 1_000_000_000_000n
/** A fee in token base units: ceil(gas × price / 1e12) (§3 "Fee units"). */
export function feeInTokenUnits(gas: bigint, pricePerGas: bigint): bigint {
  return (gas * pricePerGas + ATTODOLLARS_PER_UNIT - 1n) / ATTODOLLARS_PER_UNIT
}

const amountData = (amount: bigint) => encodeAbiParameters([{ type: 'uint256' }], [amount])
const topics = (t: readonly unknown[]) => t as Hex[]

/**
 * The logs one TIP-20 transfer emits: `Transfer`, and for a memo transfer `Transfer` then
 * `TransferWithMemo` (memo = topic3, data = amount), because `transferWithMemo` runs the same
 * `_transfer` and then emits its own event (§3, tip20/mod.rs).
 */
export function transferLogs(p: {
  token: Address
  from: Address
  to: Address
  amount: bigint
  memo?: Hex
}): TempoLog[] {
  const { token: address, from, to, amount, memo } = p
  const transfer = {
    address,
    topics: topics(encodeEventTopics({ abi: Abis.tip20, eventName: 'Transfer', args: { from, to } })),
    data: amountData(amount),
  }
  if (memo === undefined) return [transfer]
  const memoTopics = topics(
    encodeEventTopics({
      abi: Abis.tip20,
      eventName: 'TransferWithMemo',
      args: { from, to, memo: pad(memo, { size: 32 }) },
    }),
  )
  return [transfer, { address, topics: memoTopics, data: amountData(amount) }]
}

/** The trailing fee log of every receipt: `Transfer(feePayer → FeeManager, fee)` on the fee token (§3 "Fees"). */
export function feeTransferLog(p: { feeToken: Address; feePayer: Address; fee: bigint }): TempoLog {
  return transferLogs({ token: p.feeToken, from: p.feePayer, to: FEE_MANAGER, amount: p.fee })[0]!
}

const ZERO_BLOOM: Hex = `0x${'00'.repeat(256)}`

/**
 * An RPC-shaped Tempo receipt (hex quantities, positioned logs) as `eth_getTransactionReceipt`
 * answers it. Addresses come out EIP-55 checksummed, as reth/alloy (Tempo's node) serializes
 * them: compare addresses as 20-byte values, never as strings.
 */
export function buildRpcReceipt(p: {
  transactionHash: Hex
  from: Address
  to?: Address | null
  status?: 'success' | 'reverted'
  logs?: TempoLog[]
  feePayer?: Address
  feeToken?: Address
  gasUsed?: bigint
  effectiveGasPrice?: bigint
  blockNumber?: bigint
  blockHash?: Hex
  type?: Hex
}): RpcReceipt {
  const blockNumber = toHex(p.blockNumber ?? 1n)
  const blockHash = p.blockHash ?? keccak256(stringToHex(`block ${blockNumber}`))
  const gasUsed = toHex(p.gasUsed ?? 21_000n)
  const position = {
    blockNumber,
    blockHash,
    transactionHash: p.transactionHash,
    transactionIndex: '0x0' as const,
    removed: false as const,
  }
  return {
    transactionHash: p.transactionHash,
    transactionIndex: '0x0',
    blockHash,
    blockNumber,
    from: getAddress(p.from),
    to: p.to ? getAddress(p.to) : null,
    contractAddress: null,
    status: p.status === 'reverted' ? '0x0' : '0x1',
    type: p.type ?? '0x76',
    logs: (p.logs ?? []).map((log, i) => ({
      ...log,
      address: getAddress(log.address),
      ...position,
      logIndex: toHex(i),
    })),
    logsBloom: ZERO_BLOOM,
    gasUsed,
    cumulativeGasUsed: gasUsed,
    effectiveGasPrice: toHex(p.effectiveGasPrice ?? 20_000_000_000n),
    feePayer: getAddress(p.feePayer ?? p.from),
    feeToken: getAddress(p.feeToken ?? PATH_USD),
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Hex,
  ) {
    super(message)
  }
}
/**
 * Codes: -32003 ("transaction rejected", viem `TransactionRejectedRpcError`) for what is wrong in
 * the transaction bytes (envelope, chain, signatures, gas, fees). -32000 (geth's code for "nonce
 * too low" / "already known") for nonce, replay and validity-window problems, which depend on
 * node state or time. Messages are the stand-in's own: match on codes, not on wording.
 */
const rejected = (message: string) => new RpcError(-32003, `transaction rejected: ${message}`)
const nonceError = (message: string) => new RpcError(-32000, message)

/** An EVM-style revert with ABI-encoded error data, so viem decodes the reason. */
class Revert extends Error {
  constructor(
    readonly data: Hex,
    reason: string,
  ) {
    super(reason)
  }
}
type Tip20Error = 'InsufficientBalance' | 'InsufficientAllowance' | 'InvalidRecipient' | 'Uninitialized'
const tip20Revert = (errorName: Tip20Error, args?: readonly unknown[]) =>
  new Revert(
    encodeErrorResult({ abi: Abis.tip20, errorName, args } as Parameters<typeof encodeErrorResult>[0]),
    errorName,
  )
const noEvm = (reason: string) => new Revert('0x', `${reason}: no EVM in the stand-in`)

// ---------------------------------------------------------------------------------------------
// TIP-20 state and execution

interface TokenState {
  name: string
  totalSupply: bigint
  balances: Map<string, bigint>
  allowances: Map<string, bigint>
}
type TokenBook = Map<string, TokenState>
interface Call {
  to?: Address
  data: Hex
  value: bigint
}

const key = (a: Address) => a.toLowerCase()
const cloneBook = (book: TokenBook): TokenBook =>
  new Map([...book].map(([a, t]) => [a, { ...t, balances: new Map(t.balances), allowances: new Map(t.allowances) }]))
const balance = (t: TokenState, a: Address) => t.balances.get(key(a)) ?? 0n
/** TIP-20 ids map to 0x20c0000000000000000000 + id (§3), so this prefix marks a TIP-20 address. */
const isTip20Address = (a: Address) => a.toLowerCase().startsWith('0x20c0000000000000000000')
const PRECOMPILES = new Set<string>(
  Object.values(Addresses).flatMap((v) => (typeof v === 'string' ? [v.toLowerCase()] : [])),
)
const MEMO_SELECTORS = ['0x95777d59', '0x929c2539'] // transferWithMemo, transferFromWithMemo (§3)

/**
 * Approximate gas: 21 000 intrinsic + 50 000 per call + 5 000 per memo. A real transfer to a new
 * account costs about 300 000 (TIP-1000); tests must not assert real-chain fee numbers (§5.3).
 */
function scheduledGas(calls: readonly Call[]): bigint {
  return calls.reduce((gas, c) => gas + 50_000n + (MEMO_SELECTORS.includes(c.data.slice(0, 10)) ? 5_000n : 0n), 21_000n)
}

/** Runs calls as `sender` against `book` (mutating it; callers pass a copy, so a Revert is atomic). */
function executeCalls(book: TokenBook, sender: Address, calls: readonly Call[]): { logs: TempoLog[]; output: Hex } {
  const logs: TempoLog[] = []
  let output: Hex = '0x'
  for (const call of calls) {
    if (!call.to) throw noEvm('contract creation')
    // Tempo has no native coin (nativeCurrency is a USD placeholder): refuse value rather than invent balances.
    if (call.value > 0n) throw noEvm('native value transfer')
    const token = book.get(key(call.to))
    if (!token) throw isTip20Address(call.to) ? tip20Revert('Uninitialized') : noEvm(`call to ${call.to}, not a TIP-20`)
    output = tip20Call(token, call.to, sender, call.data, logs)
  }
  return { logs, output }
}

/** One TIP-20 precompile call: transfers, approve and views, with the precompile's errors (§3). */
function tip20Call(t: TokenState, address: Address, sender: Address, data: Hex, logs: TempoLog[]): Hex {
  let call
  try {
    call = decodeFunctionData({ abi: Abis.tip20, data })
  } catch {
    throw noEvm(`unknown selector ${data.slice(0, 10)}`)
  }
  const result = (functionName: string, value: unknown) =>
    encodeFunctionResult({ abi: Abis.tip20, functionName, result: value } as Parameters<typeof encodeFunctionResult>[0])
  const move = (from: Address, to: Address, amount: bigint, memo?: Hex) => {
    if (isTip20Address(to)) throw tip20Revert('InvalidRecipient') // the recipient is itself a TIP-20 (§3 errors)
    const available = balance(t, from)
    if (available < amount) throw tip20Revert('InsufficientBalance', [available, amount, address])
    t.balances.set(key(from), available - amount)
    t.balances.set(key(to), balance(t, to) + amount)
    logs.push(...transferLogs({ token: address, from, to, amount, memo }))
  }
  const spend = (owner: Address, amount: bigint) => {
    const allowed = t.allowances.get(`${key(owner)}:${key(sender)}`) ?? 0n
    if (allowed < amount) throw tip20Revert('InsufficientAllowance')
    if (allowed !== maxUint256) t.allowances.set(`${key(owner)}:${key(sender)}`, allowed - amount)
  }
  switch (call.functionName) {
    case 'transfer':
      move(sender, call.args[0], call.args[1])
      return result('transfer', true)
    case 'transferWithMemo':
      move(sender, call.args[0], call.args[1], call.args[2])
      return '0x' // no return value (§3)
    case 'transferFrom':
      spend(call.args[0], call.args[2])
      move(call.args[0], call.args[1], call.args[2])
      return result('transferFrom', true)
    case 'transferFromWithMemo': {
      const [from, to, amount, memo] = call.args
      spend(from, amount)
      move(from, to, amount, memo)
      return result('transferFromWithMemo', true)
    }
    case 'approve': {
      const [spender, amount] = call.args
      t.allowances.set(`${key(sender)}:${key(spender)}`, amount)
      logs.push({
        address,
        topics: topics(encodeEventTopics({ abi: Abis.tip20, eventName: 'Approval', args: { owner: sender, spender } })),
        data: amountData(amount),
      })
      return result('approve', true)
    }
    case 'balanceOf':
      return result('balanceOf', balance(t, call.args[0]))
    case 'allowance':
      return result('allowance', t.allowances.get(`${key(call.args[0])}:${key(call.args[1])}`) ?? 0n)
    case 'decimals':
      return result('decimals', 6) // TIP20_DECIMALS = 6 (§3)
    case 'currency':
      return result('currency', 'USD') // fee-capable tokens are USD (§3)
    case 'name':
    case 'symbol':
      return result(call.functionName, t.name)
    case 'totalSupply':
      return result('totalSupply', t.totalSupply)
    case 'paused':
      return result('paused', false)
    default:
      throw noEvm(`TIP-20 ${call.functionName}`)
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding a raw transaction (§5.3 steps 1-4)

/** A broadcast transaction after decoding and signature recovery, whatever its envelope. */
interface DecodedTx {
  hash: Hex
  type: '0x76' | '0x2'
  sender: Address
  feePayer: Address
  calls: Call[]
  gas: bigint
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
  nonceKey: bigint
  nonce: bigint
  validAfter?: number
  validBefore?: number
  feeToken?: Address
  /** expiring lane only: keccak256(encodeForSigning ‖ sender) (TIP-1009) */
  replayKey?: Hex
  /** the RPC transaction minus its block position, for eth_getTransactionByHash */
  rpc: Record<string, unknown>
}

const firstLine = (e: unknown) => (e as Error).message.split('\n')[0]
const fees = (gas?: bigint, max?: bigint, tip?: bigint) => ({
  gas: gas ?? 0n,
  maxFeePerGas: max ?? 0n,
  maxPriorityFeePerGas: tip ?? 0n,
})
const rpcFees = (f: ReturnType<typeof fees>) => ({
  gas: toHex(f.gas),
  maxFeePerGas: toHex(f.maxFeePerGas),
  maxPriorityFeePerGas: toHex(f.maxPriorityFeePerGas),
})

function decodeTempoTx(raw: Hex, chainId: number): DecodedTx {
  let env: TxEnvelopeTempo.TxEnvelopeTempo
  try {
    env = TxEnvelopeTempo.deserialize(raw as TxEnvelopeTempo.Serialized)
  } catch (e) {
    throw rejected(`malformed 0x76 envelope (${firstLine(e)})`)
  }
  if (env.chainId !== chainId) throw rejected(`wrong chain id ${env.chainId}, this chain is ${chainId}`)
  const signature = env.signature
  if (!signature) throw rejected('transaction is not signed')
  // Keychain (access keys) and configurable-account signatures are not emulated (§5.3 step 2, §5.5).
  if (!['secp256k1', 'p256', 'webAuthn'].includes(signature.type))
    throw rejected(`signature type ${signature.type} is not supported`)
  if (env.keyAuthorization || env.authorizationList?.length)
    throw rejected('key and 7702 authorizations are not supported')
  // The sender is whoever signed the sign payload, never an embedded `from` (§5.3 step 3, tx.mjs F).
  const payload = TxEnvelopeTempo.getSignPayload(env)
  let sender: Address
  try {
    sender = SignatureEnvelope.extractAddress({ payload, signature, root: true })
    // p256/webAuthn envelopes carry their public key, so extracting an address proves nothing: verify.
    if (signature.type !== 'secp256k1' && !SignatureEnvelope.verify(signature, { payload, address: sender }))
      throw new Error('bad signature')
  } catch {
    throw rejected('invalid sender signature')
  }
  // `0x00` in the fee-payer slot is the sponsor placeholder: not broadcastable yet (§5.3 step 4).
  if (env.feePayerSignature === null)
    throw rejected('fee payer signature missing (0x00 placeholder): the fee payer must co-sign first')
  let feePayer = sender
  // The fee payer signs over the sender's address, so a co-signature made for another sender recovers to a stranger.
  if (env.feePayerSignature) {
    try {
      feePayer = Secp256k1.recoverAddress({
        payload: TxEnvelopeTempo.getFeePayerSignPayload(env, { sender }),
        signature: env.feePayerSignature,
      })
    } catch {
      throw rejected('invalid fee payer signature')
    }
  }
  const calls = env.calls.map((c) => ({ to: c.to as Address | undefined, data: c.data ?? '0x', value: c.value ?? 0n }))
  const nonceKey = env.nonceKey ?? 0n
  const nonce = env.nonce ?? 0n
  const f = fees(env.gas, env.maxFeePerGas, env.maxPriorityFeePerGas)
  const hash = keccak256(raw)
  const fp = env.feePayerSignature
  return {
    hash,
    type: '0x76',
    sender,
    feePayer,
    calls,
    ...f,
    nonceKey,
    nonce,
    validAfter: env.validAfter,
    validBefore: env.validBefore,
    feeToken: env.feeToken === undefined ? undefined : (env.feeToken as Address),
    replayKey: nonceKey === maxUint256 ? keccak256(concat([TxEnvelopeTempo.encodeForSigning(env), sender])) : undefined,
    rpc: {
      type: '0x76',
      hash,
      from: getAddress(sender),
      chainId: toHex(chainId),
      nonce: toHex(nonce),
      nonceKey: toHex(nonceKey),
      ...rpcFees(f),
      calls: calls.map((c) => ({ to: c.to ? getAddress(c.to) : null, value: toHex(c.value), input: c.data })),
      accessList: [],
      ...(env.validAfter !== undefined && { validAfter: toHex(env.validAfter) }),
      ...(env.validBefore !== undefined && { validBefore: toHex(env.validBefore) }),
      signature: SignatureEnvelope.toRpc(signature),
      ...(fp && {
        feePayerSignature: {
          r: toHex(fp.r, { size: 32 }),
          s: toHex(fp.s, { size: 32 }),
          yParity: toHex(fp.yParity),
          v: toHex(27 + fp.yParity),
        },
      }),
    },
  }
}

/** Plain EIP-1559 transactions are valid on Tempo too: one call, protocol nonce (§3 last bullet, §5.3 step 1). */
async function decodeEip1559Tx(raw: Hex, chainId: number): Promise<DecodedTx> {
  let tx
  try {
    tx = parseTransaction(raw)
  } catch (e) {
    throw rejected(`malformed 0x02 transaction (${firstLine(e)})`)
  }
  if (tx.type !== 'eip1559') throw rejected(`unsupported transaction type ${tx.type}`)
  if (tx.chainId !== chainId) throw rejected(`wrong chain id ${tx.chainId}, this chain is ${chainId}`)
  if (tx.r === undefined || tx.s === undefined) throw rejected('transaction is not signed')
  const sender = await recoverTransactionAddress({ serializedTransaction: raw as `0x02${string}` })
  const call: Call = { to: tx.to ?? undefined, data: tx.data ?? '0x', value: tx.value ?? 0n }
  const nonce = BigInt(tx.nonce ?? 0)
  const f = fees(tx.gas, tx.maxFeePerGas, tx.maxPriorityFeePerGas)
  const hash = keccak256(raw)
  return {
    hash,
    type: '0x2',
    sender,
    feePayer: sender,
    calls: [call],
    ...f,
    nonceKey: 0n,
    nonce,
    rpc: {
      type: '0x2',
      hash,
      from: getAddress(sender),
      to: call.to ? getAddress(call.to) : null,
      input: call.data,
      value: toHex(call.value),
      nonce: toHex(nonce),
      ...rpcFees(f),
      chainId: toHex(chainId),
      accessList: [],
      r: tx.r,
      s: tx.s,
      yParity: toHex(tx.yParity ?? 0),
      v: toHex(tx.yParity ?? 0),
    },
  }
}

async function decodeRawTx(raw: Hex, chainId: number): Promise<DecodedTx> {
  const prefix = raw.slice(0, 4).toLowerCase()
  // The 0x78 handoff carries the sender address in the fee-payer slot and no fee-payer signature (§2.2, §5.3 step 1).
  if (prefix === TxEnvelopeTempo.feePayerMagic)
    throw rejected(
      '0x78 fee-payer handoff envelope cannot be broadcast; a fee payer must co-sign it into a 0x76 transaction',
    )
  if (prefix === TxEnvelopeTempo.serializedType) return decodeTempoTx(raw, chainId)
  if (prefix === '0x02') return decodeEip1559Tx(raw, chainId)
  throw rejected(`unsupported transaction type ${prefix}`)
}

// ---------------------------------------------------------------------------------------------
// The node

interface Block {
  number: bigint
  hash: Hex
  parentHash: Hex
  timestamp: bigint
  transactions: Hex[]
  gasUsed: bigint
}
const FAUCET_AMOUNT = 1_000_000_000_000n // 1M USD of each token, in 6-decimal units
const GET_NONCE = '0x89535803' // NonceManager getNonce(address,uint256)
const USER_TOKENS = '0xed498fa8' // FeeManager userTokens(address) (§3)
const ZERO_WORD = pad('0x0', { size: 32 })

class StandIn implements TempoNode {
  url = ''
  readonly calls: RpcCall[] = []
  readonly faults = { down: false, delayMs: 0, loseAnswerNext: 0, loseAnswerMethods: [] as string[] }
  readonly chainId: number
  private readonly baseFee: bigint
  private readonly maxExpirySecs: bigint
  private book: TokenBook = new Map()
  /** 2D nonces by `${sender}:${nonceKey}`; key 0 is the protocol nonce */
  private readonly nonces = new Map<string, bigint>()
  /** TIP-1009 replay set: expiring nonce hash → validBefore */
  private readonly expiringSeen = new Map<Hex, number>()
  private readonly userFeeTokens = new Map<string, Address>()
  private readonly blocks: Block[] = []
  private readonly txs = new Map<string, { rpc: Record<string, unknown>; receipt: RpcReceipt }>()
  private clockOffset = 0n
  private server?: http.Server

  constructor(options: TempoNodeOptions) {
    this.chainId = options.chainId ?? 42431
    this.baseFee = options.baseFeePerGas ?? 20_000_000_000n
    this.maxExpirySecs = BigInt(options.maxExpirySecs ?? 300)
    for (const [i, token] of (options.tokens ?? [PATH_USD, ALPHA_USD]).entries()) {
      const name = isAddressEqual(token, PATH_USD)
        ? 'pathUSD'
        : isAddressEqual(token, ALPHA_USD)
          ? 'AlphaUSD'
          : `TestUSD${i}`
      this.book.set(key(token), { name, totalSupply: 0n, balances: new Map(), allowances: new Map() })
    }
    this.mine([], 0n) // genesis
  }

  rpcUrl = (tag: string) => `${this.url}/${tag}`
  methodsCalledBy = (tag: string) => this.calls.filter((c) => c.tag === tag).map((c) => c.method)
  now = () => BigInt(Math.floor(Date.now() / 1000)) + this.clockOffset
  increaseTime = (seconds: number) => {
    this.clockOffset += BigInt(seconds)
  }
  setUserFeeToken = (account: Address, token: Address) => {
    this.userFeeTokens.set(key(account), token)
  }
  receipt = (hash: Hex) => this.txs.get(hash.toLowerCase())?.receipt
  balanceOf = (token: Address, account: Address) => balance(this.token(token), account)
  reset = () => {
    this.calls.length = 0
    this.faults.down = false
    this.faults.delayMs = 0
    this.faults.loseAnswerNext = 0
    this.faults.loseAnswerMethods = []
  }

  setBalance(token: Address, account: Address, amount: bigint): void {
    const t = this.token(token)
    t.totalSupply += amount - balance(t, account)
    t.balances.set(key(account), amount)
  }

  private token(address: Address): TokenState {
    const t = this.book.get(key(address))
    if (!t) throw new Error(`tempo-node: unknown token ${address}`)
    return t
  }

  /** Instant inclusion: one block per transaction, synthetic hashes chained by parent. */
  private mine(transactions: Hex[], gasUsed: bigint): Block {
    const number = BigInt(this.blocks.length)
    const parentHash = this.blocks.at(-1)?.hash ?? ZERO_WORD
    const hash = keccak256(concat([parentHash, toHex(number, { size: 32 }), ...transactions]))
    const block = { number, hash, parentHash, timestamp: this.now(), transactions, gasUsed }
    this.blocks.push(block)
    return block
  }

  /** §5.3 steps 5-7: validity window, nonce lane, gas and fee cap, fee token, fee balance. Returns the fee token. */
  private admit(tx: DecodedTx): Address {
    if (this.txs.has(tx.hash)) throw nonceError('already known')
    const now = this.now()
    if (tx.validAfter !== undefined && now < BigInt(tx.validAfter))
      throw nonceError(`transaction not yet valid (validAfter ${tx.validAfter} > now ${now})`)
    if (tx.validBefore !== undefined && now >= BigInt(tx.validBefore))
      throw nonceError(`transaction expired (validBefore ${tx.validBefore} <= now ${now})`)
    if (tx.nonceKey === maxUint256) {
      // TIP-1009: validBefore must lie in (now, now + MAX_EXPIRY], and each expiring nonce hash runs once.
      if (tx.validBefore === undefined) throw nonceError('expiring nonce requires validBefore')
      if (BigInt(tx.validBefore) > now + this.maxExpirySecs)
        throw nonceError(
          `expiring nonce validBefore ${tx.validBefore} is more than ${this.maxExpirySecs}s after now ${now}`,
        )
      if (this.expiringSeen.has(tx.replayKey!)) throw nonceError('expiring nonce already used (replay)')
    } else {
      const expected = this.nonces.get(`${key(tx.sender)}:${tx.nonceKey}`) ?? 0n
      if (tx.nonce !== expected)
        throw nonceError(
          `nonce too ${tx.nonce < expected ? 'low' : 'high'}: nonce ${tx.nonce}, expected ${expected} (nonce key ${tx.nonceKey})`,
        )
    }
    if (tx.gas < 21_000n) throw rejected(`intrinsic gas too low: gas ${tx.gas}`)
    if (tx.maxFeePerGas < this.baseFee) throw rejected(`maxFeePerGas ${tx.maxFeePerGas} below base fee ${this.baseFee}`)
    const feeToken = this.feeTokenOf(tx)
    const t = this.book.get(key(feeToken))
    if (!t) throw rejected(`fee token ${feeToken} is not a TIP-20 token on this chain`)
    const maxFee = feeInTokenUnits(tx.gas, tx.maxFeePerGas)
    if (balance(t, tx.feePayer) < maxFee)
      throw rejected(
        `fee payer ${tx.feePayer} cannot cover the maximum fee: has ${balance(t, tx.feePayer)}, needs ${maxFee} of ${feeToken}`,
      )
    return feeToken
  }

  /** Fee token: tx.feeToken, else the fee payer's FeeManager preference, else (0x02) the called TIP-20, else pathUSD (§5.3 step 7). */
  private feeTokenOf(tx: DecodedTx): Address {
    const to = tx.calls[0]?.to
    const called = tx.type === '0x2' && to && this.book.has(key(to)) ? to : undefined
    return tx.feeToken ?? this.userFeeTokens.get(key(tx.feePayer)) ?? called ?? PATH_USD
  }

  /** §5.3 step 8: burn the nonce, pre-charge the max fee, run the calls atomically, refund, log the fee. */
  private include(tx: DecodedTx, feeToken: Address): RpcReceipt {
    if (tx.replayKey) this.expiringSeen.set(tx.replayKey, tx.validBefore!)
    else this.nonces.set(`${key(tx.sender)}:${tx.nonceKey}`, tx.nonce + 1n)
    // transfer_fee_pre_tx moves the maximum fee out first, so the calls see the balance without it (§3 "Fees").
    const maxFee = feeInTokenUnits(tx.gas, tx.maxFeePerGas)
    this.adjust(feeToken, tx.feePayer, -maxFee)
    const needed = scheduledGas(tx.calls)
    let status: 'success' | 'reverted' = 'reverted'
    let callLogs: TempoLog[] = []
    if (tx.gas >= needed) {
      const scratch = cloneBook(this.book)
      try {
        callLogs = executeCalls(scratch, tx.sender, tx.calls).logs
        this.book = scratch
        status = 'success'
      } catch (e) {
        if (!(e instanceof Revert)) throw e
      }
    }
    // Out of gas burns the whole limit; success or a revert costs the scheduled gas. The fee is due either way.
    const gasUsed = tx.gas >= needed ? needed : tx.gas
    const tipped = this.baseFee + tx.maxPriorityFeePerGas
    const price = tx.maxFeePerGas < tipped ? tx.maxFeePerGas : tipped
    const fee = feeInTokenUnits(gasUsed, price)
    // transfer_fee_post_tx: refund the unused fee, credit FeeManager, emit the fee Transfer after the call logs.
    this.adjust(feeToken, tx.feePayer, maxFee - fee)
    this.adjust(feeToken, FEE_MANAGER, fee)
    const block = this.mine([tx.hash], gasUsed)
    const receipt = buildRpcReceipt({
      transactionHash: tx.hash,
      from: tx.sender,
      to: tx.calls[0]?.to ?? null,
      status,
      type: tx.type,
      logs: [...callLogs, feeTransferLog({ feeToken, feePayer: tx.feePayer, fee })],
      feePayer: tx.feePayer,
      feeToken,
      gasUsed,
      effectiveGasPrice: price,
      blockNumber: block.number,
      blockHash: block.hash,
    })
    const position = {
      blockHash: block.hash,
      blockNumber: toHex(block.number),
      transactionIndex: '0x0',
      gasPrice: toHex(price),
    }
    this.txs.set(tx.hash, {
      rpc: { ...tx.rpc, ...(tx.type === '0x76' && { feeToken: getAddress(feeToken) }), ...position },
      receipt,
    })
    for (const listener of this.includeListeners) listener(receipt)
    return receipt
  }

  private readonly includeListeners = new Set<(receipt: RpcReceipt) => void>()

  onInclude(listener: (receipt: RpcReceipt) => void): () => void {
    this.includeListeners.add(listener)
    return () => this.includeListeners.delete(listener)
  }

  private adjust(token: Address, account: Address, delta: bigint): void {
    const t = this.token(token)
    t.balances.set(key(account), balance(t, account) + delta)
  }

  private async sendRaw(raw: unknown): Promise<RpcReceipt> {
    if (typeof raw !== 'string' || !/^0x[0-9a-fA-F]+$/.test(raw))
      throw new RpcError(-32602, 'invalid params: expected a hex-encoded transaction')
    const tx = await decodeRawTx(raw as Hex, this.chainId)
    return this.include(tx, this.admit(tx))
  }

  /** Simulates Tempo `calls` (or a plain to/data call) as `from` on a copy of state; no fees are charged. */
  private simulate(request: Record<string, unknown>): { output: Hex; gas: bigint } {
    const from = (request.from as Address | undefined) ?? zeroAddress
    const raw = Array.isArray(request.calls) ? (request.calls as Record<string, unknown>[]) : [request]
    const calls = raw.map(
      (c): Call => ({
        to: (c.to ?? undefined) as Address | undefined,
        data: (c.data ?? c.input ?? '0x') as Hex,
        value: typeof c.value === 'string' && c.value !== '0x' ? BigInt(c.value) : 0n, // viem sends value '0x' in calls (§4)
      }),
    )
    try {
      return { output: executeCalls(cloneBook(this.book), from, calls).output, gas: scheduledGas(calls) }
    } catch (e) {
      if (!(e instanceof Revert)) throw e
      throw new RpcError(3, `execution reverted: ${e.message}`, e.data) // geth's revert shape: code 3, data = ABI error
    }
  }

  /** eth_call: Tempo requests with `calls` and TIP-20 calls simulate; FeeManager/NonceManager views; other precompiles read as unset storage. */
  private ethCall(request: Record<string, unknown>): Hex {
    const to = request.to as Address | undefined
    const data = (request.data ?? request.input ?? '0x') as Hex
    if (Array.isArray(request.calls) || (to && isTip20Address(to))) return this.simulate(request).output
    // No `to` is a deployless call (ERC-6492, multicall bytecode): without an EVM it reverts, and viem falls back to ecrecover.
    if (!to) throw new RpcError(3, 'execution reverted: deployless calls need an EVM', '0x')
    if (isAddressEqual(to, FEE_MANAGER) && data.startsWith(USER_TOKENS)) {
      const { args } = decodeFunctionData({ abi: Abis.feeManager, data })
      return encodeAbiParameters(
        [{ type: 'address' }],
        [this.userFeeTokens.get(key(args[0] as Address)) ?? zeroAddress],
      )
    }
    if (isAddressEqual(to, Addresses.nonceManager) && data.startsWith(GET_NONCE)) {
      const { args } = decodeFunctionData({ abi: Abis.nonce, data })
      return encodeAbiParameters([{ type: 'uint64' }], [this.nonces.get(`${key(args[0])}:${args[1]}`) ?? 0n])
    }
    return PRECOMPILES.has(key(to)) ? ZERO_WORD : '0x'
  }

  private rpcBlock(block: Block, full: boolean): Record<string, unknown> {
    return {
      number: toHex(block.number),
      hash: block.hash,
      parentHash: block.parentHash,
      timestamp: toHex(block.timestamp),
      baseFeePerGas: toHex(this.baseFee),
      gasLimit: toHex(500_000_000n),
      gasUsed: toHex(block.gasUsed),
      miner: zeroAddress,
      difficulty: '0x0',
      totalDifficulty: '0x0',
      extraData: '0x',
      nonce: '0x0000000000000000',
      mixHash: ZERO_WORD,
      sha3Uncles: '0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347',
      logsBloom: ZERO_BLOOM,
      stateRoot: ZERO_WORD,
      transactionsRoot: ZERO_WORD,
      receiptsRoot: ZERO_WORD,
      size: '0x0',
      uncles: [],
      transactions: full ? block.transactions.map((h) => this.txs.get(h)?.rpc) : block.transactions,
    }
  }

  private blockAt(tag: unknown): Block | undefined {
    if (tag === 'earliest') return this.blocks[0]
    if (typeof tag === 'string' && /^0x[0-9a-f]+$/i.test(tag)) return this.blocks[Number(BigInt(tag))]
    return this.blocks.at(-1) // latest, pending, safe, finalized coincide: inclusion is instant
  }

  private getLogs(filter: Record<string, unknown>): RpcLog[] {
    const from = this.blockAt(filter.fromBlock ?? 'latest')?.number ?? 0n
    const to = this.blockAt(filter.toBlock ?? 'latest')?.number ?? 0n
    const addresses =
      filter.address == null ? undefined : ([filter.address].flat() as string[]).map((a) => a.toLowerCase())
    const wanted = (filter.topics ?? []) as (string | string[] | null)[]
    return [...this.txs.values()]
      .flatMap((t) => t.receipt.logs)
      .filter((log) => {
        if (
          filter.blockHash
            ? log.blockHash !== filter.blockHash
            : BigInt(log.blockNumber) < from || BigInt(log.blockNumber) > to
        )
          return false
        if (addresses && !addresses.includes(log.address.toLowerCase())) return false
        return wanted.every(
          (w, i) => w === null || [w].flat().some((x) => x.toLowerCase() === log.topics[i]?.toLowerCase()),
        )
      })
  }

  /** tempo_fundAddress, the dev node's faucet (viem `Actions.faucet.fund`): mints every known token, one receipted tx each. */
  private fund(account: Address): Hex[] {
    return [...this.book.entries()].map(([address, t]) => {
      const token = address as Address
      t.totalSupply += FAUCET_AMOUNT
      t.balances.set(key(account), balance(t, account) + FAUCET_AMOUNT)
      const hash = keccak256(stringToHex(`faucet ${this.blocks.length} ${account} ${token}`))
      const block = this.mine([hash], 0n)
      const logs = transferLogs({ token, from: zeroAddress, to: account, amount: FAUCET_AMOUNT })
      const receipt = buildRpcReceipt({
        transactionHash: hash,
        from: zeroAddress,
        to: token,
        logs,
        feeToken: token,
        gasUsed: 0n,
        blockNumber: block.number,
        blockHash: block.hash,
      })
      const rpc = {
        type: '0x2',
        hash,
        from: zeroAddress,
        to: getAddress(token),
        input: '0x',
        value: '0x0',
        nonce: '0x0',
        gas: '0x0',
        chainId: toHex(this.chainId),
        blockHash: block.hash,
        blockNumber: toHex(block.number),
        transactionIndex: '0x0',
      }
      this.txs.set(hash, { rpc, receipt })
      return hash
    })
  }

  private async dispatch(method: string, p: unknown[]): Promise<unknown> {
    const request = (p[0] ?? {}) as Record<string, unknown>
    const address = String(p[0]).toLowerCase()
    switch (method) {
      case 'eth_chainId':
        return toHex(this.chainId)
      case 'net_version':
        return String(this.chainId)
      case 'web3_clientVersion':
        return 'tempo-node-standin/0.1'
      case 'eth_blockNumber':
        return toHex(this.blocks.length - 1)
      case 'eth_getBlockByNumber': {
        const b = this.blockAt(p[0])
        return b ? this.rpcBlock(b, p[1] === true) : null
      }
      case 'eth_getBlockByHash': {
        const b = this.blocks.find((x) => x.hash === address)
        return b ? this.rpcBlock(b, p[1] === true) : null
      }
      case 'eth_gasPrice':
        return toHex(this.baseFee)
      case 'eth_maxPriorityFeePerGas':
        return '0x0'
      case 'eth_getTransactionCount':
        return toHex(this.nonces.get(`${address}:0`) ?? 0n)
      case 'eth_getCode':
        return this.book.has(address) || PRECOMPILES.has(address) ? '0xef' : '0x'
      case 'eth_estimateGas':
        return toHex(this.simulate(request).gas)
      case 'eth_call':
        return this.ethCall(request)
      case 'eth_sendRawTransaction':
        return (await this.sendRaw(p[0])).transactionHash
      case 'eth_sendRawTransactionSync':
        return this.sendRaw(p[0])
      case 'eth_getTransactionReceipt':
        return this.txs.get(address)?.receipt ?? null
      case 'eth_getTransactionByHash':
        return this.txs.get(address)?.rpc ?? null
      case 'eth_getLogs':
        return this.getLogs(request)
      case 'tempo_fundAddress':
        return this.fund(p[0] as Address)
      // eth_fillTransaction lands here too: the real node fills transactions, and -32601 makes viem cache
      // "unsupported" and fill locally (mppx.md §5).
      default:
        throw new RpcError(-32601, `the method ${method} does not exist/is not available`)
    }
  }

  private async answer(tag: string, request: unknown): Promise<Record<string, unknown>> {
    const r = (request ?? {}) as { id?: unknown; method?: unknown; params?: unknown }
    const id = r.id ?? null
    if (typeof r.method !== 'string') return { jsonrpc: '2.0', id, error: { code: -32600, message: 'invalid request' } }
    const params = Array.isArray(r.params) ? r.params : []
    this.calls.push({ tag, method: r.method, params })
    try {
      return { jsonrpc: '2.0', id, result: await this.dispatch(r.method, params) }
    } catch (e) {
      const error = e instanceof RpcError ? e : new RpcError(-32603, `internal error: ${firstLine(e)}`)
      return {
        jsonrpc: '2.0',
        id,
        error: { code: error.code, message: error.message, ...(error.data !== undefined && { data: error.data }) },
      }
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Down: the connection dies with no HTTP answer at all, as when the node is unreachable.
    if (this.faults.down) {
      req.socket.destroy()
      return
    }
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    if (this.faults.delayMs > 0) await new Promise((r) => setTimeout(r, this.faults.delayMs))
    const tag = decodeURIComponent(new URL(req.url ?? '/', 'http://node').pathname.slice(1))
    let body: unknown
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      body = undefined
    }
    let answer: unknown = { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } }
    if (Array.isArray(body)) {
      const answers = []
      for (const one of body) answers.push(await this.answer(tag, one)) // in order, like a node's batch
      answer = answers
    } else if (body !== undefined) answer = await this.answer(tag, body)
    if (this.faults.loseAnswerNext > 0 && this.losesAnswer(body)) {
      this.faults.loseAnswerNext--
      req.socket.destroy()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
  }

  private losesAnswer(body: unknown): boolean {
    const { loseAnswerMethods } = this.faults
    if (loseAnswerMethods.length === 0) return true
    const calls = Array.isArray(body) ? body : [body]
    return calls.some((call) => loseAnswerMethods.includes((call as { method?: unknown } | null)?.method as string))
  }

  async listen(port = 0): Promise<void> {
    const server = http.createServer((req, res) => {
      this.serve(req, res).catch((e: unknown) => res.writeHead(500).end(firstLine(e)))
    })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', resolve)
    })
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  close = async (): Promise<void> => {
    const server = this.server
    if (!server) return
    this.server = undefined
    server.closeAllConnections()
    await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())))
  }
}

/** Starts a stand-in on 127.0.0.1 (random port): chain 42431, pathUSD + AlphaUSD, base fee 20e9, 300 s expiry window. */
export async function startTempoNode(options: TempoNodeOptions = {}): Promise<TempoNode> {
  const node = new StandIn(options)
  await node.listen(options.port)
  return node
}
