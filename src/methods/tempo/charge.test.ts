import { Secp256k1 } from 'ox'
import { TxEnvelopeTempo } from 'ox/tempo'
import {
  decodeFunctionData,
  encodeAbiParameters,
  encodeEventTopics,
  getAddress,
  keccak256,
  pad,
  type TransactionReceipt,
} from 'viem'
import { Abis } from 'viem/tempo'
import { describe, expect, it } from 'vitest'
import { accounts, KEYS, PATH_USD_TOKEN, signPaymentTx } from '../../../test/support/tempo-tx.js'
import { parseDecimal } from '../../config/amount.js'
import type {
  Address,
  DecimalAmount,
  Hex,
  RouteConfig,
  RouteSplit,
  TempoFeePayerConfig,
  TempoMethodConfig,
} from '../../config/types.js'
import {
  BackendUnavailable,
  type ChargeRequest,
  type PaymentMethod,
  PaymentRefused,
  type SettleInput,
  type Settlement,
} from '../../core/method.js'
import { StoreUnavailable } from '../../store/types.js'
import { encode } from './attribution-memo.js'
import { createTempoMethod, VALID_BEFORE_ALLOWANCE_SECONDS } from './charge.js'
import type { TempoCallRequest, TempoRpc } from './rpc.js'

const CHAIN_ID = 42431
const NOW_MS = 1_800_000_000_000
const NOW_SEC = NOW_MS / 1000
const EXPIRES_MS = NOW_MS + 300_000
const REALM = 'api.example.com'
const CURRENCY = getAddress(PATH_USD_TOKEN)
const FEE_TOKEN = getAddress('0x20c0000000000000000000000000000000000001')
const FEE_MANAGER: Address = '0xfeec000000000000000000000000000000000000'
const MERCHANT = accounts.recipient.address
const PLATFORM = accounts.platform.address
const PAYER = accounts.payer.address
const payerDid = (address: Address = PAYER, chainId = CHAIN_ID) => `did:pkh:eip155:${chainId}:${address}`

const FEE_PAYER: TempoFeePayerConfig = {
  privateKey: KEYS.sponsor,
  feeToken: FEE_TOKEN,
  maxGas: 1_000_000n,
  maxFeePerGas: 100_000_000_000n,
  maxFee: 100_000n,
  maxInFlight: 4,
}
const CONFIG: TempoMethodConfig = {
  rpcUrl: 'http://rpc.invalid',
  chainId: CHAIN_ID,
  currency: CURRENCY,
  recipient: MERCHANT,
  modes: ['pull', 'push'],
  timeoutMs: 1000,
  txClaimTtlMs: 86_400_000,
}
/** what the config loader makes of a tempo section with a feePayer: pull only */
const SPONSORING: TempoMethodConfig = { ...CONFIG, modes: ['pull'], feePayer: FEE_PAYER }

function decimal(text: string): DecimalAmount {
  const amount = parseDecimal(text)
  if (!amount) throw new Error(`bad decimal ${text}`)
  return amount
}

function routeFor(price: string, extra: Partial<RouteConfig> = {}): RouteConfig {
  return {
    index: 0,
    match: 'GET /v1/x',
    method: 'GET',
    path: '/v1/x',
    price: { kind: 'charge', amount: decimal(price) },
    maxBodyBytes: 1024,
    mode: 'enforce',
    ...extra,
  } as RouteConfig
}

// ---------------------------------------------------------------------------------------------
// A fake Tempo node behind the narrow TempoRpc interface: it "executes" what it is sent (TIP-20
// transfers from the recovered sender) and answers receipts in Tempo's log layout.

const amountData = (amount: bigint) => encodeAbiParameters([{ type: 'uint256' }], [amount])
interface Movement {
  token: Address
  from: Address
  to: Address
  amount: bigint
  memo?: Hex
}
/** Transfer, plus TransferWithMemo (memo = topic3) for a memo transfer: what the TIP-20 precompile emits. */
function logsOf(m: Movement) {
  const transfer = {
    address: m.token,
    topics: encodeEventTopics({ abi: Abis.tip20, eventName: 'Transfer', args: { from: m.from, to: m.to } }),
    data: amountData(m.amount),
  }
  if (!m.memo) return [transfer]
  const memo = {
    address: m.token,
    topics: encodeEventTopics({
      abi: Abis.tip20,
      eventName: 'TransferWithMemo',
      args: { from: m.from, to: m.to, memo: pad(m.memo, { size: 32 }) },
    }),
    data: amountData(m.amount),
  }
  return [transfer, memo]
}
function receiptOf(p: {
  hash: Hex
  from: Address
  movements: Movement[]
  feePayer?: Address
  status?: 'success' | 'reverted'
}): TransactionReceipt {
  const logs = [
    ...p.movements.flatMap(logsOf),
    ...logsOf({ token: CURRENCY, from: p.feePayer ?? p.from, to: FEE_MANAGER, amount: 1_234n }),
  ]
  return {
    status: p.status ?? 'success',
    transactionHash: p.hash,
    from: p.from,
    logs: logs.map((log, i) => ({ ...log, transactionHash: p.hash, logIndex: i, blockNumber: 1n, removed: false })),
  } as unknown as TransactionReceipt
}

/** The receipt a node would produce for a serialized 0x76 transaction: its calls, from its recovered sender. */
function execute(serialized: Hex): TransactionReceipt {
  const envelope = TxEnvelopeTempo.deserialize(serialized as TxEnvelopeTempo.Serialized)
  const from = getAddress(envelope.from!)
  const movements = envelope.calls.map((call) => {
    const { functionName, args } = decodeFunctionData({ abi: Abis.tip20, data: call.data! })
    if (functionName !== 'transfer' && functionName !== 'transferWithMemo')
      throw new Error(`fake node: ${functionName}`)
    const [to, amount, memo] = args as unknown as [Address, bigint, Hex?]
    return { token: getAddress(call.to!), from, to, amount, ...(memo ? { memo } : {}) }
  })
  return receiptOf({
    hash: keccak256(serialized),
    from,
    movements,
    feePayer: envelope.feePayerSignature ? accounts.sponsor.address : from,
  })
}

class FakeRpc implements TempoRpc {
  readonly calls: string[] = []
  readonly broadcasts: Hex[] = []
  readonly receipts = new Map<string, TransactionReceipt>()
  readonly balances = new Map<string, bigint>()
  chain = CHAIN_ID
  /** what a broadcast does; default: includes it */
  onBroadcast: (serialized: Hex) => TransactionReceipt = execute

  async sendRawTransactionSync(serialized: Hex): Promise<TransactionReceipt> {
    this.calls.push('sendRawTransactionSync')
    this.broadcasts.push(serialized)
    const receipt = this.onBroadcast(serialized)
    this.receipts.set(receipt.transactionHash.toLowerCase(), receipt)
    return receipt
  }
  async getTransactionReceipt(hash: Hex): Promise<TransactionReceipt | undefined> {
    this.calls.push('getTransactionReceipt')
    return this.receipts.get(hash.toLowerCase())
  }
  async balanceOf(token: Address, account: Address): Promise<bigint> {
    this.calls.push(`balanceOf ${getAddress(token)} ${getAddress(account)}`)
    return this.balances.get(getAddress(account)) ?? 0n
  }
  /** what the node's simulation answers; default: enough gas for what was signed */
  estimate: (request: TempoCallRequest) => Promise<bigint> = async (request) =>
    21_000n + 50_000n * BigInt(request.calls.length)
  async estimateGas(request: TempoCallRequest): Promise<bigint> {
    this.calls.push(`estimateGas ${getAddress(request.from)}`)
    return this.estimate(request)
  }
  async chainId(): Promise<number> {
    this.calls.push('chainId')
    return this.chain
  }
  async blockTime(): Promise<number> {
    this.calls.push('blockTime')
    return Math.floor(Date.now() / 1000)
  }
}

// ---------------------------------------------------------------------------------------------

interface Setup {
  method: PaymentMethod
  rpc: FakeRpc
  route: RouteConfig
  request: ChargeRequest
  claims: string[]
  /** what each settle passed to `settling`, in order */
  settling: Array<Readonly<Record<string, string>>>
  /** the method's clock (unix ms) */
  clock: { now: number }
  /** settles with a fresh challenge id (or the given one) */
  settle(payload: unknown, extra?: Partial<SettleInput>): Promise<Settlement>
  challengeId: string
  memo: Hex
}

let counter = 0
function setup(config: TempoMethodConfig = CONFIG, price = '0.50', route: RouteConfig = routeFor(price)): Setup {
  const rpc = new FakeRpc()
  const clock = { now: NOW_MS }
  const method = createTempoMethod(config, 'usd', { rpc, now: () => clock.now })
  const quote = method.quote(decimal(price), route)
  if (!quote.ok) throw new Error(quote.reason)
  const claims: string[] = []
  const settling: Array<Readonly<Record<string, string>>> = []
  const challengeId = `ch_test_${++counter}`
  return {
    method,
    rpc,
    route,
    request: quote.request,
    claims,
    settling,
    clock,
    challengeId,
    memo: encode({ realm: REALM, challengeId }),
    settle: (payload, extra = {}) =>
      method.settle({
        challengeId,
        realm: REALM,
        route,
        request: quote.request,
        payload,
        expiresAtMs: EXPIRES_MS,
        claimOnce: async (key) => {
          if (claims.includes(key)) return false
          claims.push(key)
          return true
        },
        release: async (key) => {
          if (claims.includes(key)) claims.splice(claims.indexOf(key), 1)
        },
        settling: async (handle) => void settling.push(handle),
        ...extra,
      }),
  }
}

/** The settle error, asserting its class and, for a refusal, its problem type. */
async function failure(promise: Promise<unknown>, problem: PaymentRefused['problem'] | 'unavailable'): Promise<Error> {
  const error = await promise.then(
    () => new Error('settled'),
    (e: unknown) => e as Error,
  )
  if (problem === 'unavailable') expect(error).toBeInstanceOf(BackendUnavailable)
  else {
    expect(error).toBeInstanceOf(PaymentRefused)
    expect((error as PaymentRefused).problem, error.message).toBe(problem)
  }
  return error
}

const validBefore = NOW_SEC + 25
const payTx = (s: Setup, extra: Partial<Parameters<typeof signPaymentTx>[0]> = {}) =>
  signPaymentTx({ transfers: [{ to: MERCHANT, amount: 500_000n, memo: s.memo }], validBefore, ...extra })

describe('quote', () => {
  const method = createTempoMethod(CONFIG, 'usd', { rpc: new FakeRpc() })

  it('charges usd prices in 6-decimal base units of the configured token', () => {
    expect(method.quote(decimal('0.50'), routeFor('0.50'))).toEqual({
      ok: true,
      request: { amount: '500000', currency: CURRENCY, recipient: MERCHANT, methodDetails: { chainId: CHAIN_ID } },
    })
    expect(method.quote(decimal('12'), routeFor('12'))).toMatchObject({ ok: true, request: { amount: '12000000' } })
    expect(method.quote(decimal('0.000001'), routeFor('0.000001'))).toMatchObject({
      ok: true,
      request: { amount: '1' },
    })
    expect(method.quote(decimal('0.0000010'), routeFor('0.0000010'))).toMatchObject({
      ok: true,
      request: { amount: '1' },
    })
  })

  it('refuses a price it cannot charge exactly, and non-usd gateways', () => {
    const fine = method.quote(decimal('0.0000001'), routeFor('0.0000001'))
    expect(fine.ok).toBe(false)
    if (!fine.ok) expect(fine.reason).toContain('6 decimals')
    const eur = createTempoMethod(CONFIG, 'eur', { rpc: new FakeRpc() }).quote(decimal('1'), routeFor('1'))
    expect(eur.ok).toBe(false)
    if (!eur.ok) expect(eur.reason).toContain('eur')
  })

  it('passes the route description', () => {
    expect(method.quote(decimal('1'), routeFor('1', { description: 'A report' }))).toMatchObject({
      ok: true,
      request: { description: 'A report' },
    })
  })

  it('advertises feePayer only when configured, and supportedModes only for a single mode', () => {
    const sponsored = createTempoMethod(SPONSORING, 'usd', { rpc: new FakeRpc() }).quote(decimal('1'), routeFor('1'))
    expect(sponsored).toMatchObject({
      ok: true,
      request: { methodDetails: { chainId: CHAIN_ID, feePayer: true, supportedModes: ['pull'] } },
    })
    const pushOnly = createTempoMethod({ ...CONFIG, modes: ['push'] }, 'usd', { rpc: new FakeRpc() }).quote(
      decimal('1'),
      routeFor('1'),
    )
    expect(pushOnly.ok && pushOnly.request.methodDetails).toEqual({ chainId: CHAIN_ID, supportedModes: ['push'] })
  })

  it('lists splits in base units, with their memos', () => {
    const memo: Hex = `0x${'5e'.repeat(32)}`
    const splits: RouteSplit[] = [
      { recipient: PLATFORM, amount: decimal('0.1'), memo },
      { recipient: accounts.other.address, amount: decimal('0.000001') },
    ]
    const quote = method.quote(decimal('0.50'), routeFor('0.50', { splits }))
    expect(quote.ok && quote.request.methodDetails).toEqual({
      chainId: CHAIN_ID,
      splits: [
        { amount: '100000', recipient: PLATFORM, memo },
        { amount: '1', recipient: accounts.other.address },
      ],
    })
  })

  it('refuses splits that are not whole base units, not positive, too many, or not less than the price', () => {
    const quoteWith = (splits: RouteSplit[]) => method.quote(decimal('0.50'), routeFor('0.50', { splits }))
    expect(quoteWith([{ recipient: PLATFORM, amount: decimal('0.0000001') }]).ok).toBe(false)
    expect(quoteWith([{ recipient: PLATFORM, amount: decimal('0') }]).ok).toBe(false)
    expect(quoteWith([{ recipient: PLATFORM, amount: decimal('0.50') }]).ok).toBe(false)
    expect(quoteWith([{ recipient: PLATFORM, amount: decimal('0.499999') }]).ok).toBe(true)
    expect(quoteWith(Array.from({ length: 11 }, () => ({ recipient: PLATFORM, amount: decimal('0.01') }))).ok).toBe(
      false,
    )
    expect(quoteWith(Array.from({ length: 10 }, () => ({ recipient: PLATFORM, amount: decimal('0.01') }))).ok).toBe(
      true,
    )
  })

  it('quotes a zero price as amount "0" with no payment details beyond the chain', () => {
    const zero = createTempoMethod(SPONSORING, 'usd', { rpc: new FakeRpc() }).quote(decimal('0'), routeFor('0'))
    expect(zero).toEqual({
      ok: true,
      request: { amount: '0', currency: CURRENCY, recipient: MERCHANT, methodDetails: { chainId: CHAIN_ID } },
    })
  })
})

describe('settle: pull (type="transaction")', () => {
  it('broadcasts the signed transaction once and answers its hash', async () => {
    const s = setup()
    const serialized = await payTx(s)
    const settlement = await s.settle({ type: 'transaction', signature: serialized }, { source: payerDid() })
    expect(s.rpc.broadcasts).toEqual([serialized])
    expect(s.rpc.calls).toEqual(['sendRawTransactionSync'])
    expect(settlement.reference).toBe(keccak256(serialized))
    expect(s.claims).toEqual([`tx:${keccak256(serialized)}`])
  })

  it('accepts splits in any order', async () => {
    const route = routeFor('0.50', { splits: [{ recipient: PLATFORM, amount: decimal('0.1') }] })
    const s = setup(CONFIG, '0.50', route)
    const serialized = await signPaymentTx({
      transfers: [
        { to: PLATFORM, amount: 100_000n },
        { to: MERCHANT, amount: 400_000n, memo: s.memo },
      ],
      validBefore,
    })
    expect((await s.settle({ type: 'transaction', signature: serialized })).reference).toBe(keccak256(serialized))
    // the full price to the merchant alone is not the split payment asked for
    const t = setup(CONFIG, '0.50', route)
    await failure(t.settle({ type: 'transaction', signature: await payTx(t) }), 'verification-failed')
    expect(t.rpc.broadcasts).toEqual([])
  })

  it('hands the hash it broadcasts to `settling` first, so a re-drive can look the payment up', async () => {
    const s = setup()
    const serialized = await payTx(s)
    s.rpc.onBroadcast = (raw) => {
      expect(s.settling).toEqual([{ txHash: keccak256(serialized) }])
      return execute(raw)
    }
    await s.settle({ type: 'transaction', signature: serialized })
    expect(s.settling).toEqual([{ txHash: keccak256(serialized) }])
  })

  it('re-driven after its answer was lost: the landed receipt pays, even past validBefore, with no broadcast', async () => {
    const s = setup()
    const serialized = await payTx(s)
    s.rpc.receipts.set(keccak256(serialized), execute(serialized))
    s.clock.now = (validBefore + 60) * 1000
    const txHash = keccak256(serialized)
    const settlement = await s.settle({ type: 'transaction', signature: serialized }, { redrive: { txHash } })
    expect(settlement.reference).toBe(txHash)
    expect(s.rpc.calls).toEqual(['getTransactionReceipt'])
    expect(s.rpc.broadcasts).toEqual([])
  })

  it('re-driven when nothing landed: settles as new, and refuses it as expired once validBefore passed', async () => {
    const s = setup()
    const serialized = await payTx(s)
    const txHash = keccak256(serialized)
    const settlement = await s.settle({ type: 'transaction', signature: serialized }, { redrive: { txHash } })
    expect(settlement.reference).toBe(txHash)
    expect(s.rpc.calls).toEqual(['getTransactionReceipt', 'sendRawTransactionSync'])
    const t = setup()
    const late = await payTx(t)
    t.clock.now = (validBefore + 60) * 1000
    await failure(
      t.settle({ type: 'transaction', signature: late }, { redrive: { txHash: keccak256(late) } }),
      'payment-expired',
    )
    expect(t.rpc.broadcasts).toEqual([])
  })

  it('serves the payment when the node refuses a repeat of a transaction that already landed', async () => {
    const s = setup()
    const serialized = await payTx(s)
    s.rpc.receipts.set(keccak256(serialized), execute(serialized))
    s.rpc.onBroadcast = () => {
      throw new PaymentRefused(
        'verification-failed',
        'The Tempo node rejected the transaction (JSON-RPC error -32000): already known',
      )
    }
    const settlement = await s.settle({ type: 'transaction', signature: serialized })
    expect(settlement.reference).toBe(keccak256(serialized))
    expect(s.rpc.calls).toEqual(['sendRawTransactionSync', 'getTransactionReceipt'])
  })

  it("refuses with the node's reason when the node rejects and nothing landed", async () => {
    const s = setup()
    s.rpc.onBroadcast = () => {
      throw new PaymentRefused(
        'verification-failed',
        'The Tempo node rejected the transaction (JSON-RPC error -32003): insufficient funds',
      )
    }
    const error = await failure(s.settle({ type: 'transaction', signature: await payTx(s) }), 'verification-failed')
    expect(error.message).toContain('insufficient funds')
  })

  it('answers unavailable when the node cannot be reached, without a receipt lookup', async () => {
    const s = setup()
    s.rpc.onBroadcast = () => {
      throw new BackendUnavailable('tempo-rpc', 'Could not reach the Tempo node for the broadcast.')
    }
    await failure(s.settle({ type: 'transaction', signature: await payTx(s) }), 'unavailable')
    expect(s.rpc.calls).toEqual(['sendRawTransactionSync'])
  })

  it('refuses a transaction that reverted on chain, and a receipt for another transaction', async () => {
    const s = setup()
    s.rpc.onBroadcast = (serialized) => ({ ...execute(serialized), status: 'reverted', logs: [] })
    await failure(s.settle({ type: 'transaction', signature: await payTx(s) }), 'verification-failed')
    const t = setup()
    t.rpc.onBroadcast = (serialized) => ({ ...execute(serialized), transactionHash: `0x${'00'.repeat(32)}` })
    await failure(t.settle({ type: 'transaction', signature: await payTx(t) }), 'unavailable')
  })

  it('refuses before broadcasting: wrong amount, missing memo, foreign memo, other chain, expired, too long-lived', async () => {
    const cases: Array<[string, (s: Setup) => Promise<Hex>, PaymentRefused['problem']]> = [
      [
        'underpaid',
        (s) => signPaymentTx({ transfers: [{ to: MERCHANT, amount: 499_999n, memo: s.memo }], validBefore }),
        'payment-insufficient',
      ],
      [
        'no memo',
        () => signPaymentTx({ transfers: [{ to: MERCHANT, amount: 500_000n }], validBefore }),
        'verification-failed',
      ],
      [
        'memo of another challenge',
        () =>
          signPaymentTx({
            transfers: [{ to: MERCHANT, amount: 500_000n, memo: encode({ realm: REALM, challengeId: 'ch_other' }) }],
            validBefore,
          }),
        'verification-failed',
      ],
      ['another chain', (s) => payTx(s, { chainId: 4217 }), 'verification-failed'],
      ['expired', (s) => payTx(s, { validBefore: NOW_SEC }), 'payment-expired'],
      ['no validBefore', (s) => payTx(s, { validBefore: null }), 'verification-failed'],
      [
        'outlives the challenge',
        (s) => payTx(s, { validBefore: EXPIRES_MS / 1000 + VALID_BEFORE_ALLOWANCE_SECONDS + 1 }),
        'verification-failed',
      ],
      ['not a transaction', async () => '0x76zz', 'invalid-payload'],
    ]
    for (const [name, build, problem] of cases) {
      const s = setup()
      const error = await failure(s.settle({ type: 'transaction', signature: await build(s) }), problem)
      expect(s.rpc.calls, `${name}: ${error.message}`).toEqual([])
      expect(s.claims, name).toEqual([])
    }
    // the last second the challenge allows is fine
    const s = setup()
    await s.settle({
      type: 'transaction',
      signature: await payTx(s, { validBefore: EXPIRES_MS / 1000 + VALID_BEFORE_ALLOWANCE_SECONDS }),
    })
    expect(s.rpc.broadcasts).toHaveLength(1)
  })

  it('refuses a transaction signed by someone other than the credential source', async () => {
    const s = setup()
    await failure(
      s.settle({ type: 'transaction', signature: await payTx(s, { account: accounts.other }) }, { source: payerDid() }),
      'verification-failed',
    )
    await failure(
      s.settle({ type: 'transaction', signature: await payTx(s) }, { source: payerDid(PAYER, 4217) }),
      'verification-failed',
    )
    expect(s.rpc.calls).toEqual([])
  })

  it('refuses a transaction already presented as a payment', async () => {
    const s = setup()
    const serialized = await payTx(s)
    s.claims.push(`tx:${keccak256(serialized)}`)
    await failure(s.settle({ type: 'transaction', signature: serialized }), 'verification-failed')
    expect(s.rpc.broadcasts).toEqual([])
  })

  it('refuses a fee-sponsorship request when the gateway pays no fees', async () => {
    for (const sponsored of ['handoff', 'placeholder'] as const) {
      const s = setup()
      const error = await failure(
        s.settle({ type: 'transaction', signature: await payTx(s, { sponsored }) }),
        'verification-failed',
      )
      expect(error.message).toContain('does not pay transaction fees')
      expect(s.rpc.calls).toEqual([])
    }
  })
})

describe('settle: sponsored pull', () => {
  /** the fee payer the broadcast transaction's fee-payer signature recovers to, signing for `sender` */
  function feePayerOf(final: Hex, sender: Address): Address {
    const envelope = TxEnvelopeTempo.deserialize(final as TxEnvelopeTempo.Serialized)
    return getAddress(
      Secp256k1.recoverAddress({
        payload: TxEnvelopeTempo.getFeePayerSignPayload(envelope, { sender }),
        signature: envelope.feePayerSignature!,
      }),
    )
  }

  for (const sponsored of ['handoff', 'placeholder'] as const) {
    it(`co-signs a ${sponsored} credential as fee payer and broadcasts the final 0x76 transaction`, async () => {
      const s = setup(SPONSORING)
      s.rpc.balances.set(PAYER, 500_000n)
      const credential = await payTx(s, { sponsored })
      const settlement = await s.settle({ type: 'transaction', signature: credential }, { source: payerDid() })
      expect(s.rpc.calls).toEqual([`balanceOf ${CURRENCY} ${PAYER}`, `estimateGas ${PAYER}`, 'sendRawTransactionSync'])
      const [final] = s.rpc.broadcasts as [Hex]
      expect(final.startsWith('0x76')).toBe(true)
      expect(feePayerOf(final, PAYER)).toBe(accounts.sponsor.address)
      expect(getAddress(TxEnvelopeTempo.deserialize(final as TxEnvelopeTempo.Serialized).feeToken as Address)).toBe(
        FEE_TOKEN,
      )
      expect(settlement.reference).toBe(keccak256(final))
      expect(s.claims).toEqual([`tx:${keccak256(final)}`])
    })
  }

  it('co-signs for the real signer of a 0x78 envelope that claims another sender', async () => {
    const s = setup(SPONSORING)
    s.rpc.balances.set(PAYER, 500_000n)
    s.rpc.balances.set(accounts.other.address, 10n ** 12n)
    await s.settle({
      type: 'transaction',
      signature: await payTx(s, { sponsored: 'handoff', embeddedSender: accounts.other.address }),
    })
    // the balance checked is the signer's, and the sponsor signed for the signer
    expect(s.rpc.calls[0]).toBe(`balanceOf ${CURRENCY} ${PAYER}`)
    expect(feePayerOf(s.rpc.broadcasts[0]!, PAYER)).toBe(accounts.sponsor.address)
  })

  it('refuses an underfunded payer without broadcasting', async () => {
    const s = setup(SPONSORING)
    s.rpc.balances.set(PAYER, 499_999n)
    const error = await failure(
      s.settle({ type: 'transaction', signature: await payTx(s, { sponsored: 'handoff' }) }),
      'payment-insufficient',
    )
    expect(error.message).toContain('499999')
    expect(s.rpc.broadcasts).toEqual([])
    expect(s.claims).toEqual([])
  })

  it('refuses a transaction beyond the sponsorship limits without broadcasting', async () => {
    const s = setup(SPONSORING)
    s.rpc.balances.set(PAYER, 500_000n)
    await failure(
      s.settle({
        type: 'transaction',
        signature: await payTx(s, { sponsored: 'handoff', gas: FEE_PAYER.maxGas + 1n }),
      }),
      'verification-failed',
    )
    expect(s.rpc.broadcasts).toEqual([])
  })

  it("refuses a transaction whose gas limit is below the node's estimate without co-signing", async () => {
    const s = setup(SPONSORING)
    s.rpc.balances.set(PAYER, 500_000n)
    s.rpc.estimate = async () => 90_001n
    const error = await failure(
      s.settle({ type: 'transaction', signature: await payTx(s, { sponsored: 'handoff', gas: 90_000n }) }),
      'verification-failed',
    )
    expect(error.message).toBe(
      'The gateway does not sponsor this transaction: its gas limit 90000 is below the 90001 the node estimates it needs, so it would run out of gas.',
    )
    expect(s.rpc.broadcasts).toEqual([])
    expect(s.claims).toEqual([])
  })

  it("refuses a transaction the node's simulation says would revert, with the node's reason", async () => {
    const s = setup(SPONSORING)
    s.rpc.balances.set(PAYER, 500_000n)
    s.rpc.estimate = async () =>
      Promise.reject(
        new PaymentRefused(
          'verification-failed',
          'The Tempo node rejected the transaction (JSON-RPC error 3): execution reverted: InsufficientBalance',
        ),
      )
    const error = await failure(
      s.settle({ type: 'transaction', signature: await payTx(s, { sponsored: 'handoff' }) }),
      'verification-failed',
    )
    expect(error.message).toBe(
      "The gateway does not sponsor this transaction: the node's simulation says it would revert (The Tempo node rejected the transaction (JSON-RPC error 3): execution reverted: InsufficientBalance)",
    )
    expect(s.rpc.broadcasts).toEqual([])
  })

  it('simulates the exact calls as the payer, with the sponsor as fee payer', async () => {
    const s = setup(SPONSORING)
    s.rpc.balances.set(PAYER, 500_000n)
    const seen: TempoCallRequest[] = []
    s.rpc.estimate = async (request) => {
      seen.push(request)
      return 71_000n
    }
    await s.settle({ type: 'transaction', signature: await payTx(s, { sponsored: 'handoff' }) })
    expect(seen).toMatchObject([
      { from: PAYER, calls: [{ to: PATH_USD_TOKEN }], feeToken: FEE_TOKEN, feePayer: accounts.sponsor.address },
    ])
    expect(seen[0]!.calls[0]!.data.slice(0, 10)).toBe('0x95777d59') // transferWithMemo
  })

  it('keeps a broadcast payment settled when the store cannot release the payer lock (the lock expires by itself)', async () => {
    const s = setup(SPONSORING)
    s.rpc.balances.set(PAYER, 500_000n)
    const settlement = await s.settle(
      { type: 'transaction', signature: await payTx(s, { sponsored: 'handoff' }) },
      { release: () => Promise.reject(new StoreUnavailable('redis down')) },
    )
    expect(settlement.reference).toBe(keccak256(s.rpc.broadcasts[0]!))
  })

  it('refuses a second sponsored transaction from a payer whose first is in flight, and frees the payer after', async () => {
    const s = setup(SPONSORING)
    s.rpc.balances.set(PAYER, 1_000_000n)
    let include: () => void = () => {}
    const inclusion = new Promise<void>((resolve) => (include = resolve))
    const sendSync = s.rpc.sendRawTransactionSync.bind(s.rpc)
    s.rpc.sendRawTransactionSync = async (serialized) => {
      await inclusion
      return sendSync(serialized)
    }
    const first = s.settle({ type: 'transaction', signature: await payTx(s, { sponsored: 'handoff' }) })
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(s.claims).toContain(`sponsor:payer:${PAYER.toLowerCase()}`)
    const second = await failure(
      s.settle({ type: 'transaction', signature: await payTx(s, { sponsored: 'handoff' }) }),
      'verification-failed',
    )
    expect(second.message).toBe(
      'The gateway does not sponsor this transaction: another sponsored transaction from this payer is in flight; retry once it is included.',
    )
    include()
    await first
    expect(s.claims.filter((c) => c.startsWith('sponsor:'))).toEqual([])
    expect(s.rpc.broadcasts).toHaveLength(1)
  })

  it('answers 503 (BackendUnavailable) beyond maxInFlight sponsored transactions in one process', async () => {
    const rpc = new FakeRpc()
    const method = createTempoMethod({ ...SPONSORING, feePayer: { ...FEE_PAYER, maxInFlight: 1 } }, 'usd', {
      rpc,
      now: () => NOW_MS,
    })
    const route = routeFor('0.50')
    const quote = method.quote(decimal('0.50'), route)
    if (!quote.ok) throw new Error(quote.reason)
    rpc.balances.set(PAYER, 1_000_000n)
    rpc.balances.set(accounts.other.address, 1_000_000n)
    let include: () => void = () => {}
    const inclusion = new Promise<void>((resolve) => (include = resolve))
    const sendSync = rpc.sendRawTransactionSync.bind(rpc)
    rpc.sendRawTransactionSync = async (serialized) => {
      await inclusion
      return sendSync(serialized)
    }
    const settle = async (account: typeof accounts.payer, challengeId: string) =>
      method.settle({
        challengeId,
        realm: REALM,
        route,
        request: quote.request,
        expiresAtMs: EXPIRES_MS,
        claimOnce: async () => true,
        release: async () => {},
        settling: async () => {},
        payload: {
          type: 'transaction',
          signature: await signPaymentTx({
            account,
            transfers: [{ to: MERCHANT, amount: 500_000n, memo: encode({ realm: REALM, challengeId }) }],
            validBefore,
            sponsored: 'handoff',
          }),
        },
      })
    const first = settle(accounts.payer, 'ch_budget_1')
    await new Promise((resolve) => setTimeout(resolve, 10))
    const error = await failure(settle(accounts.other, 'ch_budget_2'), 'unavailable')
    expect(error.message).toBe('The fee sponsor already has 1 transactions in flight.')
    include()
    await first
    // the slot is free again once the node answered
    await settle(accounts.other, 'ch_budget_3')
    expect(rpc.broadcasts).toHaveLength(2)
  })

  it('broadcasts a payer-paid transaction as is, without co-signing', async () => {
    const s = setup(SPONSORING)
    const serialized = await payTx(s)
    await s.settle({ type: 'transaction', signature: serialized })
    expect(s.rpc.broadcasts).toEqual([serialized])
    expect(s.rpc.calls).toEqual(['sendRawTransactionSync'])
  })

  it('refuses a push credential: the sponsoring gateway accepts pull only', async () => {
    const s = setup(SPONSORING)
    const hash: Hex = `0x${'ab'.repeat(32)}`
    s.rpc.receipts.set(
      hash,
      receiptOf({
        hash,
        from: PAYER,
        movements: [{ token: CURRENCY, from: PAYER, to: MERCHANT, amount: 500_000n, memo: s.memo }],
      }),
    )
    await failure(s.settle({ type: 'hash', hash }, { source: payerDid() }), 'verification-failed')
    expect(s.rpc.calls).toEqual([])
  })
})

describe('settle: push (type="hash")', () => {
  const HASH: Hex = `0x${'ab'.repeat(32)}`
  const paid = (s: Setup, overrides: Partial<Movement> = {}, from: Address = PAYER) =>
    receiptOf({
      hash: HASH,
      from,
      movements: [{ token: CURRENCY, from, to: MERCHANT, amount: 500_000n, memo: s.memo, ...overrides }],
    })

  it('checks the receipt and answers the hash, broadcasting nothing', async () => {
    const s = setup()
    s.rpc.receipts.set(HASH, paid(s))
    const settlement = await s.settle(
      { type: 'hash', hash: HASH.toUpperCase().replace('0X', '0x') },
      { source: payerDid() },
    )
    expect(settlement.reference).toBe(HASH)
    expect(s.rpc.calls).toEqual(['getTransactionReceipt'])
    expect(s.rpc.broadcasts).toEqual([])
    expect(s.claims).toEqual([`tx:${HASH}`])
  })

  it('takes the payer from the receipt when the credential names no source', async () => {
    const s = setup()
    s.rpc.receipts.set(HASH, paid(s))
    expect((await s.settle({ type: 'hash', hash: HASH })).reference).toBe(HASH)
  })

  it('refuses a reverted transaction', async () => {
    const s = setup()
    s.rpc.receipts.set(HASH, { ...paid(s), status: 'reverted' })
    await failure(s.settle({ type: 'hash', hash: HASH }, { source: payerDid() }), 'verification-failed')
    expect(s.claims).toEqual([])
  })

  it('refuses a hash the node does not know', async () => {
    const s = setup()
    const error = await failure(s.settle({ type: 'hash', hash: HASH }, { source: payerDid() }), 'verification-failed')
    expect(error.message).toContain(HASH)
  })

  it('refuses a hash already presented as a payment', async () => {
    const s = setup()
    s.rpc.receipts.set(HASH, paid(s))
    s.claims.push(`tx:${HASH}`)
    await failure(s.settle({ type: 'hash', hash: HASH }, { source: payerDid() }), 'verification-failed')
  })

  it("refuses someone else's payment: another challenge's memo, another payer, another token", async () => {
    const s = setup()
    s.rpc.receipts.set(HASH, paid(s, { memo: encode({ realm: REALM, challengeId: 'ch_theirs' }) }))
    await failure(s.settle({ type: 'hash', hash: HASH }, { source: payerDid() }), 'verification-failed')

    const t = setup()
    t.rpc.receipts.set(HASH, paid(t, {}, accounts.other.address))
    await failure(t.settle({ type: 'hash', hash: HASH }, { source: payerDid() }), 'verification-failed')

    const u = setup()
    u.rpc.receipts.set(HASH, paid(u, { token: FEE_TOKEN }))
    await failure(u.settle({ type: 'hash', hash: HASH }, { source: payerDid() }), 'verification-failed')
  })

  it('flags an underpayment as insufficient', async () => {
    const s = setup()
    s.rpc.receipts.set(HASH, paid(s, { amount: 400_000n }))
    await failure(s.settle({ type: 'hash', hash: HASH }, { source: payerDid() }), 'payment-insufficient')
  })

  it('refuses a malformed hash without asking the node', async () => {
    const s = setup()
    for (const hash of ['', '0x', HASH.slice(0, -2), `${HASH}00`, HASH.slice(2)]) {
      await failure(s.settle({ type: 'hash', hash }), 'invalid-payload')
    }
    expect(s.rpc.calls).toEqual([])
  })
})

describe('settle: modes, payload types and zero-amount proofs', () => {
  it('refuses a mode the gateway does not accept, without touching the node', async () => {
    const pushOnly = setup({ ...CONFIG, modes: ['push'] })
    await failure(pushOnly.settle({ type: 'transaction', signature: await payTx(pushOnly) }), 'verification-failed')
    expect(pushOnly.rpc.calls).toEqual([])
    const pullOnly = setup({ ...CONFIG, modes: ['pull'] })
    await failure(pullOnly.settle({ type: 'hash', hash: `0x${'ab'.repeat(32)}` }), 'verification-failed')
    expect(pullOnly.rpc.calls).toEqual([])
  })

  it('refuses payloads that are not one of the three shapes', async () => {
    const s = setup()
    for (const payload of [
      null,
      'x',
      [],
      {},
      { type: 'transaction' },
      { type: 'hash', signature: '0x' },
      { type: 'transaction', signature: 1 },
      { type: 'other', signature: '0x' },
    ]) {
      await failure(s.settle(payload), 'invalid-payload')
    }
    expect(s.rpc.calls).toEqual([])
  })

  const signV3 = (s: Setup, account = accounts.payer) =>
    account.signTypedData({
      domain: { name: 'MPP', version: '3', chainId: CHAIN_ID },
      types: {
        Proof: [
          { name: 'account', type: 'address' },
          { name: 'challengeId', type: 'string' },
          { name: 'realm', type: 'string' },
        ],
      },
      primaryType: 'Proof',
      message: { account: account.address, challengeId: s.challengeId, realm: REALM },
    })
  const signV1 = (s: Setup) =>
    accounts.payer.signTypedData({
      domain: { name: 'MPP', version: '1', chainId: CHAIN_ID },
      types: { Proof: [{ name: 'challengeId', type: 'string' }] },
      primaryType: 'Proof',
      message: { challengeId: s.challengeId },
    })

  it('settles a zero-amount charge with either form of proof, answering the challenge id', async () => {
    for (const sign of [signV3, signV1]) {
      const s = setup(CONFIG, '0')
      const settlement = await s.settle({ type: 'proof', signature: await sign(s) }, { source: payerDid() })
      expect(settlement.reference).toBe(s.challengeId)
      expect(s.rpc.calls).toEqual([])
    }
  })

  it('refuses a proof without a source, from another signer, or for another chain', async () => {
    const s = setup(CONFIG, '0')
    await failure(s.settle({ type: 'proof', signature: await signV3(s) }), 'invalid-payload')
    await failure(
      s.settle({ type: 'proof', signature: await signV3(s, accounts.other) }, { source: payerDid() }),
      'verification-failed',
    )
    await failure(
      s.settle({ type: 'proof', signature: await signV3(s) }, { source: payerDid(PAYER, 4217) }),
      'verification-failed',
    )
    await failure(s.settle({ type: 'proof', signature: '0xdead' }, { source: payerDid() }), 'verification-failed')
    // a proof for another challenge
    const other = setup(CONFIG, '0')
    await failure(
      other.settle({ type: 'proof', signature: await signV3(s) }, { source: payerDid() }),
      'verification-failed',
    )
  })

  it('refuses a proof for a priced charge, and a payment for a zero-amount charge', async () => {
    const priced = setup()
    await failure(
      priced.settle({ type: 'proof', signature: await signV3(priced) }, { source: payerDid() }),
      'invalid-payload',
    )
    const zero = setup(CONFIG, '0')
    await failure(
      zero.settle({ type: 'transaction', signature: await payTx(zero) }, { source: payerDid() }),
      'invalid-payload',
    )
    await failure(
      zero.settle({ type: 'hash', hash: `0x${'ab'.repeat(32)}` }, { source: payerDid() }),
      'invalid-payload',
    )
    expect(priced.rpc.calls).toEqual([])
    expect(zero.rpc.calls).toEqual([])
  })
})

describe('ping', () => {
  it('is ready when the node serves the configured chain', async () => {
    const s = setup()
    await expect(s.method.ping!()).resolves.toBeUndefined()
    s.rpc.chain = 4217
    await expect(s.method.ping!()).rejects.toThrow('4217')
  })
})

describe('quote: a Stripe deposit recipient', () => {
  const { recipient: _merchant, ...rest } = CONFIG
  const DEPOSIT: TempoMethodConfig = {
    ...rest,
    stripeDeposit: { shape: 'reusable', processingGraceMs: 0, recordRetryMs: 30_000 },
  }
  const method = createTempoMethod(DEPOSIT, 'usd', {
    rpc: new FakeRpc(),
    deposit: () => ({
      issue: async (quoted) => ({ request: quoted }),
      precheck: async () => {},
      confirm: async () => {},
      close: () => {},
    }),
  })

  it('leaves the recipient to be issued per 402', () => {
    const quote = method.quote(decimal('0.50'), routeFor('0.50'))
    expect(quote).toEqual({
      ok: true,
      request: { amount: '500000', currency: CURRENCY, methodDetails: { chainId: CHAIN_ID } },
    })
    expect(method.issuer?.fields).toEqual(['recipient', 'currency'])
    expect(method.issuer?.createsBackendObject).toBe(false)
  })

  it.each([
    ['0.009', 'a Stripe deposit address takes at least one cent (0.01); 0.009 is less'],
    ['0', 'a Stripe deposit address takes at least one cent (0.01); 0 is less'],
    ['0.105', 'Stripe records deposits in whole cents; 0.105 is not'],
  ])('does not offer %s', (price, reason) => {
    expect(method.quote(decimal(price), routeFor(price))).toEqual({ ok: false, reason })
  })

  it('does not offer splits: the deposit address receives the whole price', () => {
    const route = routeFor('0.50', { splits: [{ recipient: MERCHANT, amount: decimal('0.10') }] })
    expect(method.quote(decimal('0.50'), route)).toEqual({
      ok: false,
      reason: 'a Stripe deposit address receives the whole price; splits to other recipients are not supported',
    })
  })
})
