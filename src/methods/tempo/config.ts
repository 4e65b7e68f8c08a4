import { z } from 'zod'
import { parseDecimal } from '../../config/amount.js'
import {
  checkDecimal,
  checkDuration,
  checkPayee,
  checkPositiveInteger,
  checkString,
  checkToken,
  checkTokenUnits,
  isProblem,
  type Problem,
  UNQUOTED_HEX,
} from '../../config/fields.js'
import { kind, show, unknownKey } from '../../config/issues.js'
import type { Address, Hex } from '../../config/types.js'

/** Moderato, the Tempo testnet: the default chain, as in draft-tempo-charge §Method Details */
const DEFAULT_CHAIN_ID = 42431
/** public JSON-RPC endpoints of the chains the gateway knows; any other chain needs an explicit rpcUrl */
const RPC_URLS: ReadonlyMap<number, string> = new Map([
  [42431, 'https://rpc.moderato.tempo.xyz'],
  [4217, 'https://rpc.tempo.xyz'],
])
/** pathUSD, the first TIP-20 USD stablecoin */
const PATH_USD: Address = '0x20c0000000000000000000000000000000000000'
const MODES = ['pull', 'push'] as const
export type TempoMode = (typeof MODES)[number]
const DEPOSIT_SHAPES = ['reusable', 'per-payment'] as const
export type StripeDepositShape = (typeof DEPOSIT_SHAPES)[number]
const DEFAULT_MAX_GAS = 2_000_000
/** sponsored transactions awaiting the node, per process: bounds the sponsor's exposure to maxInFlight × maxFee */
const DEFAULT_MAX_IN_FLIGHT = 16
const DEFAULT_MAX_FEE_PER_GAS = '100000000000'
const DEFAULT_MAX_FEE = '0.05'
/** order of the secp256k1 group: a private key is in [1, n) */
const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

type Path = ReadonlyArray<string | number>
/** what a transform reports into: zod's context, with paths relative to methods.tempo */
type Report = (path: Path, problem: string, aboutValue?: boolean) => undefined

/** Unwraps a check at `path`: its value, or undefined after reporting its problem. */
function take<T>(report: Report, path: Path, result: T | Problem): T | undefined {
  return isProblem(result) ? report(path, result.problem) : result
}

function unknownKeys(report: Report, path: Path, block: Record<string, unknown>, known: readonly string[]): void {
  const extra = Object.keys(block).filter((key) => !known.includes(key))
  for (const key of extra) report([...path, key], unknownKey(key, known), false)
}

function isBlock(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const positive = (example: number) => (value: unknown) =>
  checkPositiveInteger(value, `a positive integer like ${example}`)

/** Never echoed: RPC providers often put an API key in the URL's path or query. */
function checkRpcUrl(value: unknown): string | Problem {
  const text = checkString(value)
  if (isProblem(text)) return text
  if (text === '') return { problem: 'is empty' }
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return { problem: 'is not a valid URL' }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: 'must use http or https' }
  if (url.username || url.password) return { problem: 'must not contain credentials (user:password@)' }
  if (text.includes('#')) return { problem: 'must not contain a fragment' }
  return text
}

/** Checked for shape only: the key's value must never appear in a message. */
function checkPrivateKey(value: unknown): Hex | Problem {
  if (value === undefined) return { problem: 'is required' }
  if (typeof value === 'number') return { problem: UNQUOTED_HEX }
  const key = checkString(value)
  if (isProblem(key)) return key
  if (key === '') return { problem: 'is empty' }
  if (!/^0x[0-9a-fA-F]{64}$/.test(key))
    return {
      problem: `must be "0x" followed by 64 hex digits (a secp256k1 private key; got ${key.length} characters)`,
    }
  const scalar = BigInt(key)
  if (scalar === 0n) return { problem: 'is zero, which is not a private key' }
  if (scalar >= SECP256K1_ORDER)
    return { problem: 'is not a valid secp256k1 private key (it is not below the curve order)' }
  return key.toLowerCase() as Hex
}

function checkMaxFeePerGas(value: unknown): bigint | Problem {
  if (value === undefined) return BigInt(DEFAULT_MAX_FEE_PER_GAS)
  if (typeof value === 'number')
    return {
      problem: `must be a quoted integer string like "${DEFAULT_MAX_FEE_PER_GAS}" (attodollars per gas; YAML numbers lose precision)`,
    }
  const text = checkString(value)
  if (isProblem(text)) return text
  if (!/^[0-9]+$/.test(text)) return { problem: `${show(text)} is not a whole number of attodollars per gas` }
  const amount = BigInt(text)
  return amount === 0n ? { problem: 'must be greater than zero' } : amount
}

function checkMaxFee(value: unknown): bigint | Problem {
  const amount = value === undefined ? parseDecimal(DEFAULT_MAX_FEE)! : checkDecimal(value, DEFAULT_MAX_FEE)
  return isProblem(amount) ? amount : checkTokenUnits(amount)
}

function checkDurationAt(report: Report, path: Path, value: unknown, fallback: string, minMs: number): number {
  const result = checkDuration(value, fallback, minMs)
  if (typeof result === 'number') return result
  report(path, result.problem)
  return result.fallbackMs
}

const FEE_PAYER_KEYS = ['privateKey', 'feeToken', 'maxGas', 'maxFeePerGas', 'maxFee', 'maxInFlight']
const DEPOSIT_KEYS = ['stripeDeposit', 'processingGrace', 'recordRetry']

/** The gateway pays the network fees of pull transactions, within these bounds per transaction. */
function feePayer(report: Report, value: unknown, currency: Address | undefined) {
  const at = ['feePayer']
  if (!isBlock(value)) return report(at, `must be a mapping (got ${kind(value)})`)
  unknownKeys(report, at, value, FEE_PAYER_KEYS)
  const privateKey = take(report, [...at, 'privateKey'], checkPrivateKey(value.privateKey))
  const feeToken =
    value.feeToken === undefined ? currency : take(report, [...at, 'feeToken'], checkToken(value.feeToken))
  const maxGas = take(
    report,
    [...at, 'maxGas'],
    value.maxGas === undefined ? DEFAULT_MAX_GAS : positive(DEFAULT_MAX_GAS)(value.maxGas),
  )
  const maxFeePerGas = take(report, [...at, 'maxFeePerGas'], checkMaxFeePerGas(value.maxFeePerGas))
  const maxFee = take(report, [...at, 'maxFee'], checkMaxFee(value.maxFee))
  const maxInFlight = take(
    report,
    [...at, 'maxInFlight'],
    value.maxInFlight === undefined ? DEFAULT_MAX_IN_FLIGHT : positive(DEFAULT_MAX_IN_FLIGHT)(value.maxInFlight),
  )
  if (
    privateKey === undefined ||
    !feeToken ||
    maxGas === undefined ||
    maxFeePerGas === undefined ||
    maxFee === undefined ||
    maxInFlight === undefined
  )
    return undefined
  return {
    /** secp256k1 private key of the sponsoring account; never logged */
    privateKey,
    /** USD TIP-20 token the fees are paid in */
    feeToken,
    /** largest gas limit co-signed */
    maxGas: BigInt(maxGas),
    /** largest maxFeePerGas co-signed, in attodollars (1e-18 USD) per gas */
    maxFeePerGas,
    /** largest fee one transaction may cost the sponsor (gas × maxFeePerGas), in fee-token base units */
    maxFee,
    /** sponsored transactions co-signed and not yet answered by the node, per gateway process */
    maxInFlight,
  }
}

/** `recipient: { stripeDeposit: reusable | per-payment }`: pay into the Stripe balance of methods.stripe. */
function stripeDeposit(report: Report, block: Record<string, unknown>, currency: Address | undefined) {
  const at = ['recipient']
  unknownKeys(report, at, block, DEPOSIT_KEYS)
  const value = block.stripeDeposit
  const shape = DEPOSIT_SHAPES.find((s) => s === value)
  if (value === undefined) report([...at, 'stripeDeposit'], 'is required')
  else if (!shape && typeof value !== 'symbol')
    report(
      [...at, 'stripeDeposit'],
      `${typeof value === 'string' ? show(value) : kind(value)} is not a deposit shape (use "reusable" or "per-payment")`,
    )
  if (shape === 'reusable' && block.processingGrace !== undefined)
    report([...at, 'processingGrace'], 'applies only to stripeDeposit: "per-payment"')
  if (shape === 'per-payment' && block.recordRetry !== undefined)
    report([...at, 'recordRetry'], 'applies only to stripeDeposit: "reusable"')
  const processingGraceMs = checkDurationAt(report, [...at, 'processingGrace'], block.processingGrace, '5m', 0)
  const recordRetryMs = checkDurationAt(report, [...at, 'recordRetry'], block.recordRetry, '30s', 100)
  if (!shape) return undefined
  return {
    shape,
    /** the token written as methods.tempo.currency; undefined: the deposit address's supported token */
    ...(currency ? { currency } : {}),
    /** per-payment: how long after its transfer a PaymentIntent Stripe still reports `processing` is accepted */
    processingGraceMs,
    /** reusable: how often payments not yet recorded in Stripe are retried */
    recordRetryMs,
  }
}

function modes(report: Report, value: unknown, sponsored: boolean): TempoMode[] | undefined {
  if (value === undefined) return sponsored ? ['pull'] : ['pull', 'push']
  if (!Array.isArray(value)) return report(['modes'], `must be a list of strings (got ${kind(value)})`)
  if (value.length === 0)
    return report(['modes'], 'must not be empty (the default is ["pull", "push"], or ["pull"] with a feePayer)')
  const out: TempoMode[] = []
  let ok = true
  value.forEach((item: unknown, i) => {
    const problem =
      typeof item !== 'string'
        ? `must be a string (got ${kind(item)})`
        : !MODES.some((m) => m === item)
          ? `${show(item)} is not a mode (use "pull" or "push")`
          : value.indexOf(item) !== i
            ? `${show(item)} is listed twice`
            : undefined
    if (problem) ok = report(['modes', i], problem) ?? false
    else out.push(item as TempoMode)
  })
  if (!ok) return undefined
  // draft-tempo-charge §Hash Settlement: no type="hash" credential when feePayer is true.
  if (sponsored && out.includes('push'))
    return report(
      ['modes'],
      'push payments cannot be fee-sponsored (a client that broadcasts its own transaction pays its own fees); use ["pull"] or remove feePayer',
    )
  return out
}

/** The keys of methods.tempo, in the order the did-you-mean lists them; the values are read below. */
const keys = z.strictObject({
  rpcUrl: z.unknown().optional(),
  chainId: z.unknown().optional(),
  currency: z.unknown().optional(),
  // a 0x address, or a mapping: { stripeDeposit, processingGrace, recordRetry }
  recipient: z
    .unknown()
    .refine((value) => value !== undefined, 'is required')
    .meta({ keys: DEPOSIT_KEYS, scalarToo: true }),
  modes: z.unknown().optional(),
  feePayer: z.unknown().optional().meta({ keys: FEE_PAYER_KEYS }),
  timeout: z.unknown().optional(),
  txClaimTtl: z.unknown().optional(),
})

/**
 * `methods.tempo`. Its defaults depend on each other (the RPC URL on the chain, the modes and the fee
 * token on the fee payer), so one transform reads the keys in that order and reports as it goes. An
 * empty `recipient` (an unset variable) passes here: the plugin's `emptyDisables` switches the method off.
 */
export const tempoConfigSchema = keys.transform((raw, ctx) => {
  const report: Report = (path, problem, aboutValue = true) => {
    ctx.addIssue({
      code: 'custom',
      path: [...path],
      message: problem,
      ...(aboutValue ? {} : { params: { aboutValue } }),
    })
    return undefined
  }
  const chainId = take(
    report,
    ['chainId'],
    raw.chainId === undefined ? DEFAULT_CHAIN_ID : positive(DEFAULT_CHAIN_ID)(raw.chainId),
  )
  let rpcUrl: string | undefined
  if (raw.rpcUrl !== undefined) rpcUrl = take(report, ['rpcUrl'], checkRpcUrl(raw.rpcUrl))
  else if (chainId !== undefined) {
    // A bad chainId was reported already; the missing URL follows from it.
    rpcUrl = RPC_URLS.get(chainId)
    if (rpcUrl === undefined)
      report(
        ['rpcUrl'],
        `is required for chainId ${chainId} (there are defaults only for ${[...RPC_URLS.keys()].join(' and ')})`,
      )
  }
  const currency = take(report, ['currency'], checkToken(raw.currency ?? PATH_USD))
  const off = raw.recipient === ''
  const deposit = isBlock(raw.recipient)
    ? stripeDeposit(report, raw.recipient, raw.currency === undefined ? undefined : currency)
    : undefined
  const recipient = off || isBlock(raw.recipient) ? undefined : take(report, ['recipient'], checkPayee(raw.recipient))
  const sponsored = raw.feePayer !== undefined
  const accepted = modes(report, raw.modes, sponsored)
  const sponsor = sponsored ? feePayer(report, raw.feePayer, currency) : undefined
  const timeoutMs = checkDurationAt(report, ['timeout'], raw.timeout, '10s', 1)
  const txClaimTtlMs = checkDurationAt(report, ['txClaimTtl'], raw.txClaimTtl, '30d', 3_600_000)
  if (chainId === undefined || rpcUrl === undefined || !currency || !accepted) return z.NEVER
  if (!off && !recipient && !deposit) return z.NEVER
  if (sponsored && !sponsor) return z.NEVER
  return {
    rpcUrl,
    chainId,
    /** TIP-20 token charged (6 decimals); with stripeDeposit, the token Stripe's deposit address supports decides */
    currency,
    /** the payee's own address; undefined exactly when `stripeDeposit` is set (or the method is off) */
    ...(recipient ? { recipient } : {}),
    /** payments go to Stripe deposit addresses (methods.stripe's account) instead of `recipient` */
    ...(deposit ? { stripeDeposit: deposit } : {}),
    /** submission modes accepted, in the order written */
    modes: accepted as readonly TempoMode[],
    ...(sponsor ? { feePayer: sponsor } : {}),
    /** JSON-RPC call timeout in ms */
    timeoutMs,
    /** how long a transaction hash stays claimed after it paid, so it can never pay again */
    txClaimTtlMs,
  }
})

export type TempoConfig = z.output<typeof tempoConfigSchema>
export type TempoFeePayer = NonNullable<TempoConfig['feePayer']>
export type TempoStripeDeposit = NonNullable<TempoConfig['stripeDeposit']>
