import { Signature } from 'ox'
import { SignatureEnvelope, TxEnvelopeTempo } from 'ox/tempo'
import { type Address, encodeFunctionData, type Hex, maxUint256 } from 'viem'
import { type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'

/** Fixed test keys (Anvil's well-known dev keys): fixtures are reproducible and fund nothing real. */
export const KEYS = {
  payer: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  other: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  sponsor: '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  recipient: '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  platform: '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
} as const satisfies Record<string, Hex>

export const accounts = {
  payer: privateKeyToAccount(KEYS.payer),
  other: privateKeyToAccount(KEYS.other),
  sponsor: privateKeyToAccount(KEYS.sponsor),
  recipient: privateKeyToAccount(KEYS.recipient),
  platform: privateKeyToAccount(KEYS.platform),
}

export const PATH_USD_TOKEN: Address = '0x20c0000000000000000000000000000000000000'
export const EXPIRING_NONCE_KEY = maxUint256

const TIP20_TRANSFER_ABI = [
  {
    type: 'function',
    name: 'transfer',
    stateMutability: 'nonpayable',
    inputs: [
      { name: 'to', type: 'address' },
      { name: 'amount', type: 'uint256' },
    ],
    outputs: [{ type: 'bool' }],
  },
  {
    type: 'function',
    name: 'transferWithMemo',
    stateMutability: 'nonpayable',
    inputs: [
      { name: 'to', type: 'address' },
      { name: 'amount', type: 'uint256' },
      { name: 'memo', type: 'bytes32' },
    ],
    outputs: [],
  },
] as const

export interface TransferCall {
  readonly to: Address
  readonly amount: bigint
  readonly memo?: Hex
  /** defaults to pathUSD */
  readonly token?: Address
}

/** A TIP-20 `transfer` / `transferWithMemo` call. */
export function transferCall(transfer: TransferCall): { to: Address; data: Hex } {
  const data = transfer.memo
    ? encodeFunctionData({
        abi: TIP20_TRANSFER_ABI,
        functionName: 'transferWithMemo',
        args: [transfer.to, transfer.amount, transfer.memo],
      })
    : encodeFunctionData({ abi: TIP20_TRANSFER_ABI, functionName: 'transfer', args: [transfer.to, transfer.amount] })
  return { to: transfer.token ?? PATH_USD_TOKEN, data }
}

export interface PaymentTxOptions {
  readonly account?: PrivateKeyAccount
  readonly chainId?: number
  readonly transfers: readonly TransferCall[]
  /** calls appended after the transfers, e.g. an approve */
  readonly extraCalls?: ReadonlyArray<{ to: Address; data: Hex }>
  /** unix seconds; null leaves it out */
  readonly validBefore: number | null
  readonly nonceKey?: bigint
  readonly nonce?: bigint
  readonly gas?: bigint
  readonly maxFeePerGas?: bigint
  readonly maxPriorityFeePerGas?: bigint
  /** the payer's fee token when it pays its own fees; default pathUSD */
  readonly feeToken?: Address
  /**
   * false: the payer pays fees (0x76 with a feeToken);
   * 'handoff': the 0x78 envelope mppx clients send on sponsored routes;
   * 'placeholder': the spec's 0x76 with a 0x00 fee-payer signature and no feeToken.
   */
  readonly sponsored?: false | 'handoff' | 'placeholder'
  /** written into a 0x78 envelope as its sender; defaults to the signer (a forgery test sets another) */
  readonly embeddedSender?: Address
}

/** Signs a payment transaction the way a Tempo payer would, from fixed keys. */
export async function signPaymentTx(options: PaymentTxOptions): Promise<Hex> {
  const account = options.account ?? accounts.payer
  const sponsored = options.sponsored ?? false
  const envelope = TxEnvelopeTempo.from({
    chainId: options.chainId ?? 42431,
    calls: [...options.transfers.map(transferCall), ...(options.extraCalls ?? [])],
    gas: options.gas ?? 100_000n + 60_000n * BigInt(options.transfers.length),
    maxFeePerGas: options.maxFeePerGas ?? 40_000_000_000n,
    maxPriorityFeePerGas: options.maxPriorityFeePerGas ?? 0n,
    nonceKey: options.nonceKey ?? EXPIRING_NONCE_KEY,
    nonce: options.nonce ?? BigInt(Math.floor(Math.random() * 2 ** 40)),
    ...(options.validBefore === null ? {} : { validBefore: options.validBefore }),
    ...(sponsored ? { feePayerSignature: null } : { feeToken: options.feeToken ?? PATH_USD_TOKEN }),
  })
  const payload = TxEnvelopeTempo.getSignPayload(envelope)
  const signature = SignatureEnvelope.from(Signature.fromHex(await account.sign({ hash: payload })))
  if (sponsored === 'handoff')
    return TxEnvelopeTempo.serialize(envelope, {
      signature,
      format: 'feePayer',
      sender: options.embeddedSender ?? account.address,
    })
  if (sponsored === 'placeholder') return TxEnvelopeTempo.serialize(envelope, { signature, feePayerSignature: null })
  return TxEnvelopeTempo.serialize(envelope, { signature })
}
