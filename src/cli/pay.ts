import { formatMajorUnits, TIP20_DECIMALS } from '../config/amount.js'
import { currencyDecimals } from '../methods/stripe/minimum-charge.js'
import { SANDBOX_PAYER_KEY, SANDBOX_STRIPE_KEY, sandboxEndpoints, sandboxPorts } from '../sandbox/config.js'

type Out = { write(text: string): unknown }
type Env = Record<string, string | undefined>

const STRIPE_PREVIEW = '2026-07-29.preview'
const PATH_USD = '0x20c0000000000000000000000000000000000000'
const MODERATO_RPC = 'https://rpc.moderato.tempo.xyz'

export interface PayOptions {
  readonly url: string
  readonly method?: string
  readonly request?: string
  readonly data?: string
  readonly headers?: readonly string[]
  readonly sandbox?: boolean
}

/** Where and as whom to pay: the sandbox's stand-ins, or real backends with keys from the environment. */
export interface Wallet {
  readonly stripe?: { readonly apiBase: string; readonly secretKey: string }
  readonly tempo?: { readonly rpcUrl: string; readonly privateKey: `0x${string}` }
}

export function walletFor(sandbox: boolean, env: Env): Wallet {
  if (sandbox) {
    const endpoints = sandboxEndpoints(sandboxPorts(env))
    return {
      stripe: { apiBase: endpoints.stripeApiBase, secretKey: SANDBOX_STRIPE_KEY },
      tempo: { rpcUrl: endpoints.tempoRpcUrl, privateKey: SANDBOX_PAYER_KEY },
    }
  }
  const key = env.TEMPO_PRIVATE_KEY
  return {
    ...(env.STRIPE_SECRET_KEY
      ? { stripe: { apiBase: env.STRIPE_API_BASE || 'https://api.stripe.com', secretKey: env.STRIPE_SECRET_KEY } }
      : {}),
    ...(key && /^0x[0-9a-fA-F]{64}$/.test(key)
      ? { tempo: { rpcUrl: env.TEMPO_RPC_URL || MODERATO_RPC, privateKey: key as `0x${string}` } }
      : {}),
  }
}

/** A challenge's amount as a person reads it: "0.50 usd", "0.50 pathUSD → 0x3c44…93bc". */
export function describeCharge(method: string, request: Record<string, unknown>): string {
  const amount = BigInt(String(request.amount ?? '0'))
  const currency = String(request.currency ?? '')
  if (method === 'tempo') {
    const token = currency.toLowerCase() === PATH_USD ? 'pathUSD' : currency
    return `${formatMajorUnits(amount, TIP20_DECIMALS)} ${token} to ${String(request.recipient ?? '?')}`
  }
  return `${formatMajorUnits(amount, currencyDecimals(currency))} ${currency}`
}

/**
 * `mpp-gateway pay URL`: asks once without paying, prints the 402's challenges, pays one with the
 * mppx client, sends the request again with the credential and prints the answer and its decoded
 * receipt. It never prints a Shared Payment Token, a key or the credential.
 */
export async function runPay(options: PayOptions, out: Out, env: Env = process.env): Promise<number> {
  // mppx is loaded only by this payer-side command, never by the gateway.
  const { Challenge, Receipt } = await import('mppx')
  const { Mppx, stripe: mppxStripe, tempo: mppxTempo } = await import('mppx/client')
  if (options.method !== undefined && options.method !== 'stripe' && options.method !== 'tempo')
    throw new UsageError(`-m ${options.method}: use stripe or tempo`)
  const url = /^https?:\/\//.test(options.url) ? options.url : `http://${options.url}`
  const headers = new Headers()
  for (const line of options.headers ?? []) {
    const colon = line.indexOf(':')
    if (colon < 1) throw new UsageError(`-H "${line}" is not "Name: value"`)
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim())
  }
  const method = (options.request ?? (options.data !== undefined ? 'POST' : 'GET')).toUpperCase()
  const init = (authorization?: string): RequestInit => {
    const sent = new Headers(headers)
    if (authorization) sent.set('authorization', authorization)
    if (options.data !== undefined && !sent.has('content-type')) sent.set('content-type', 'application/json')
    return { method, headers: sent, ...(options.data !== undefined ? { body: options.data } : {}) }
  }
  const path = new URL(url).pathname + new URL(url).search

  out.write(`→ ${method} ${path}   (no Authorization)\n`)
  const first = await fetch(url, init())
  const firstBody = await first.clone().text()
  if (first.status !== 402) {
    out.write(`← ${first.status} ${first.statusText}   ${firstBody}\n`)
    out.write(first.ok ? 'no payment was asked for\n' : `expected 402 Payment Required, got ${first.status}\n`)
    return first.ok ? 0 : 1
  }
  const challenges = Challenge.fromResponseList(first)
  out.write(`← 402 Payment Required   ${challenges.length} challenge(s)\n`)
  for (const c of challenges)
    out.write(
      `   WWW-Authenticate: Payment method="${c.method}" intent="${c.intent}"  ${describeCharge(c.method, c.request as Record<string, unknown>)}  expires ${c.expires ?? '-'}\n`,
    )

  const wallet = walletFor(options.sandbox === true, env)
  const usable = challenges.filter(
    (c) => (c.method === 'stripe' && wallet.stripe) || (c.method === 'tempo' && wallet.tempo),
  )
  const chosen = options.method ? usable.find((c) => c.method === options.method) : usable[0]
  if (!chosen) {
    const wanted = options.method ?? challenges.map((c) => c.method).join(' or ')
    out.write(
      `cannot pay with ${wanted}: ${options.sandbox ? 'the 402 does not offer it' : 'set STRIPE_SECRET_KEY (stripe) or TEMPO_PRIVATE_KEY (tempo), or use --sandbox'}\n`,
    )
    return 1
  }

  let client
  if (chosen.method === 'stripe') {
    const stripe = wallet.stripe!
    client = Mppx.create({
      polyfill: false,
      methods: [
        mppxStripe.charge({
          paymentMethod: 'pm_card_visa',
          createToken: async ({ amount, currency, networkId }) => {
            const spt = await mintTestSpt(stripe, { amount, currency, networkId })
            out.write(
              `   pay: minted a Shared Payment Token for pm_card_visa, capped at ${describeCharge('stripe', { amount, currency })}, network ${networkId ?? '-'}\n`,
            )
            return spt
          },
        }),
      ],
    })
  } else {
    const tempo = wallet.tempo!
    const { privateKeyToAccount } = await import('viem/accounts')
    const { createClient, http } = await import('viem')
    const { tempoModerato } = await import('viem/chains')
    const account = privateKeyToAccount(tempo.privateKey)
    out.write(
      `   pay: mppx tempo.charge signs a pathUSD transfer as ${account.address} (RPC ${new URL(tempo.rpcUrl).origin})\n`,
    )
    client = Mppx.create({
      polyfill: false,
      methods: [
        mppxTempo.charge({
          account,
          getClient: () => createClient({ chain: tempoModerato, transport: http(tempo.rpcUrl) }),
        }),
      ],
    })
  }
  // Only the chosen challenge, so mppx pays with the method asked for.
  const only = new Response(firstBody, { status: 402, headers: { 'www-authenticate': Challenge.serialize(chosen) } })
  const credential = await client.createCredential(only)
  const authorization = credential.startsWith('Payment ') ? credential : `Payment ${credential}`

  out.write(`→ ${method} ${path}   Authorization: Payment <credential, ${authorization.length} bytes>\n`)
  const paid = await fetch(url, init(authorization))
  const body = await paid.text()
  out.write(`← ${paid.status} ${paid.statusText}   ${body}\n`)
  const header = paid.headers.get('payment-receipt')
  if (!header) {
    out.write('no Payment-Receipt: the payment was not accepted\n')
    return 1
  }
  const receipt = Receipt.deserialize(header)
  out.write(`   Payment-Receipt (decoded): ${JSON.stringify(receipt)}\n`)
  return paid.ok && receipt.status === 'success' ? 0 : 1
}

export class UsageError extends Error {}

/** A test-mode SPT from Stripe's test helper (the fake Stripe serves the same endpoint). */
async function mintTestSpt(
  stripe: { apiBase: string; secretKey: string },
  ask: { amount: string; currency: string; networkId?: string | undefined },
): Promise<string> {
  const form = new URLSearchParams({
    payment_method: 'pm_card_visa',
    'usage_limits[currency]': ask.currency,
    'usage_limits[max_amount]': ask.amount,
    'usage_limits[expires_at]': String(Math.floor(Date.now() / 1000) + 3600),
    ...(ask.networkId ? { 'seller_details[network_id]': ask.networkId } : {}),
  })
  const response = await fetch(`${stripe.apiBase}/v1/test_helpers/shared_payment/granted_tokens`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stripe.secretKey}`,
      'stripe-version': STRIPE_PREVIEW,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: form,
  })
  const json = (await response.json().catch(() => ({}))) as { id?: string; error?: { message?: string } }
  // Stripe's error message names no key; the token itself is never printed.
  if (!response.ok || typeof json.id !== 'string')
    throw new Error(
      `Stripe refused to mint a test Shared Payment Token (${response.status}: ${json.error?.message ?? 'no message'})`,
    )
  return json.id
}
