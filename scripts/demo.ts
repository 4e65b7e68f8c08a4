/**
 * `npm run demo`: the whole product in one process tree, offline, in a few seconds.
 *
 * It starts, all on 127.0.0.1 (random ports):
 *   - the example upstream (examples/upstream/server.mjs), a JSON API that knows nothing about payments,
 *   - the local payment stand-ins of `serve --sandbox` and the tests: a fake Stripe (src/sandbox/fake-stripe.ts) and a
 *     Tempo node (src/sandbox/tempo-node.ts) with a funded payer,
 *   - the real gateway (src/server/server.ts) with a YAML config loaded through the real loader,
 * then pays for a route with the mppx client three ways (Stripe, Tempo pull, Tempo push), printing the
 * 402, what the client did to pay, and the 200 with its decoded receipt. Exit 0 on success, 1 on failure.
 *
 * Run with tsx (it also runs on Node versions that cannot strip TypeScript types): `npx tsx scripts/demo.ts`.
 */
import { rmSync } from 'node:fs'
import { dirname } from 'node:path'
import { Challenge, Credential, Receipt } from 'mppx'
import { Mppx, tempo as mppxTempo } from 'mppx/client'
import { TxEnvelopeTempo } from 'ox/tempo'
import { type Address, createClient, decodeFunctionData, type Hex, http as viemHttp } from 'viem'
import { tempoModerato } from 'viem/chains'
import { startExampleApi } from '../examples/upstream/server.mjs'
import { startGateway, type RunningGateway } from '../src/server/server.js'
import { loadConfig } from '../src/config/load.js'
import { createLogger } from '../src/log/logger.js'
import { type FakeStripe, startFakeStripe } from '../test/support/fake-stripe.js'
import { writeTestConfig } from '../test/support/gateway.js'
import { mppxStripeClient } from '../test/support/mppx-stripe.js'
import { PATH_USD, startTempoNode, type TempoNode } from '../test/support/tempo-node.js'
import { accounts } from '../test/support/tempo-tx.js'

const ROUTES = [
  { match: 'GET /v1/health', price: 'free' },
  { match: 'GET /v1/joke', price: '0.50', description: 'A joke' },
]
const PAYER_FUNDS = 10_000_000n // 10.00 pathUSD (6 decimals)
const DEADLINE_MS = 20_000

class DemoFailure extends Error {}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new DemoFailure(message)
}

const out = (line = '') => process.stdout.write(`${line}\n`)
const section = (title: string) => out(`\n── ${title} ${'─'.repeat(Math.max(4, 72 - title.length))}`)
const short = (text: string, keep = 10) =>
  text.length > keep * 2 + 1 ? `${text.slice(0, keep)}…${text.slice(-6)}` : text
const usd6 = (units: bigint) =>
  `${units / 1_000_000n}.${(units % 1_000_000n)
    .toString()
    .padStart(6, '0')
    .replace(/0{1,4}$/, '')}`

/** An amount from a challenge request in words: base units and the human form. */
function describeAmount(method: string, request: Record<string, unknown>): string {
  const amount = String(request.amount)
  if (method === 'tempo')
    return `${usd6(BigInt(amount))} pathUSD (${amount} base units) → ${short(String(request.recipient))}`
  if (method === 'stripe') {
    const cents = Number(amount)
    return `${(cents / 100).toFixed(2)} ${String(request.currency).toUpperCase()} (${amount} minor units)`
  }
  return `${amount} ${String(request.currency)}`
}

/** The Payment-Receipt header, decoded as sent (base64url JSON), and checked with mppx's parser. */
function decodeReceipt(response: Response): Record<string, unknown> {
  const header = response.headers.get('payment-receipt')
  check(header, `expected a Payment-Receipt header on the ${response.status}`)
  const json = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>
  check(Receipt.deserialize(header).status === 'success', 'mppx could not read the receipt')
  return json
}

const TIP20_ABI = [
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

/** What a signed Tempo transaction does, in one line per call. */
function describeTransaction(serialized: Hex): string[] {
  const envelope = TxEnvelopeTempo.deserialize(serialized as TxEnvelopeTempo.Serialized)
  return envelope.calls.map((call) => {
    try {
      const { functionName, args } = decodeFunctionData({ abi: TIP20_ABI, data: call.data ?? '0x' })
      const [to, amount, memo] = args as readonly [Address, bigint, Hex?]
      return `${functionName}(to ${short(to)}, ${usd6(amount)} pathUSD${memo ? `, memo ${short(memo, 12)}` : ''}) on token ${short(call.to ?? '')}`
    } catch {
      return `call to ${call.to ?? '?'}`
    }
  })
}

interface Stack {
  api: Awaited<ReturnType<typeof startExampleApi>>
  stripe: FakeStripe
  node: TempoNode
  gateway: RunningGateway
  configFile: string
  logs: string[]
}

async function start(logs: string[], opened: Array<() => Promise<void>>): Promise<Stack> {
  const api = await startExampleApi({ port: 0, host: '127.0.0.1' })
  opened.push(() => api.close())
  const stripe = await startFakeStripe()
  opened.push(() => stripe.close())
  const node = await startTempoNode()
  opened.push(() => node.close())
  node.setBalance(PATH_USD, accounts.payer.address, PAYER_FUNDS)
  node.setBalance(PATH_USD, accounts.recipient.address, 0n)

  // A YAML file like an operator writes, loaded and validated by the gateway's own loader.
  const configFile = writeTestConfig({
    upstreamUrl: api.url,
    stripeUrl: stripe.url,
    tempo: {
      rpcUrl: node.rpcUrl('gateway'),
      chainId: 42431,
      currency: PATH_USD,
      recipient: accounts.recipient.address,
      modes: ['pull', 'push'],
      timeout: '2s',
    },
    routes: ROUTES,
    extra: { watch: false, log: { level: 'info' } },
  })
  opened.push(async () => rmSync(dirname(configFile), { recursive: true, force: true }))
  const loaded = await loadConfig(configFile)
  check(loaded.ok, `the demo config did not load:\n${loaded.ok ? '' : loaded.errors.join('\n')}`)
  // The gateway's JSON log lines go to a buffer (shown only if something fails), not over the trace.
  const logger = createLogger({ level: 'info', write: (line) => logs.push(line) })
  const gateway = await startGateway(loaded.config, { logger, hash: loaded.hash })
  opened.push(() => gateway.close())
  return { api, stripe, node, gateway, configFile, logs }
}

/** GET without a credential: prints and returns the 402 with its challenges (the decoded request of `paying`'s). */
async function showChallenge(url: string, path: string, paying: string): Promise<Response> {
  out(`→ GET ${path}   (no Authorization)`)
  const response = await fetch(`${url}${path}`)
  const body = await response.clone().text()
  check(response.status === 402, `expected 402 from ${path}, got ${response.status}: ${body}`)
  const problem = JSON.parse(body) as { title?: string; type?: string }
  out(`← 402 Payment Required   ${response.headers.get('content-type')}: "${problem.title}" (${problem.type})`)
  const challenges = Challenge.fromResponseList(response)
  check(challenges.length > 0, 'the 402 carried no Payment challenge')
  for (const challenge of challenges) {
    out(
      `   WWW-Authenticate: Payment method="${challenge.method}" intent="${challenge.intent}"  ${describeAmount(challenge.method, challenge.request)}`,
    )
    if (challenge.method !== paying) continue
    out(
      `       id ${short(challenge.id)}  expires ${challenge.expires ?? '-'}  (the id is an HMAC over the challenge: nothing is stored)`,
    )
    out(`       request (decoded) ${JSON.stringify(challenge.request)}`)
  }
  check(
    challenges.some((c) => c.method === paying),
    `the 402 offered no ${paying} challenge`,
  )
  return response
}

/** Sends the credential and prints the 200 with its decoded receipt. */
async function sendPaid(url: string, path: string, authorization: string): Promise<Record<string, unknown>> {
  out(`→ GET ${path}   Authorization: Payment <credential, ${authorization.length} bytes>`)
  const response = await fetch(`${url}${path}`, { headers: { authorization } })
  const body = await response.text()
  check(response.status === 200, `expected 200 for the paid request, got ${response.status}: ${body}`)
  out(`← 200 OK   ${body}`)
  const receipt = decodeReceipt(response)
  out(`   Payment-Receipt (decoded): ${JSON.stringify(receipt)}`)
  return receipt
}

async function demoFree(stack: Stack): Promise<void> {
  section('1. a free route: forwarded as is')
  out('→ GET /v1/health')
  const response = await fetch(`${stack.gateway.url}/v1/health`)
  const body = await response.text()
  check(response.status === 200, `expected 200 from /v1/health, got ${response.status}: ${body}`)
  check(!response.headers.has('payment-receipt'), 'a free route must not carry a receipt')
  out(`← 200 OK   ${body}   (no challenge, no receipt)`)
}

async function demoStripe(stack: Stack): Promise<void> {
  section('2. paying with Stripe (a Shared Payment Token)')
  // The SPT itself is a bearer token: the demo says that one was minted, never which.
  const client = mppxStripeClient(stack.stripe, ({ amount, currency, networkId }) =>
    out(
      `   pay: mppx stripe.charge minted a Shared Payment Token for pm_card_visa, capped at ${amount} ${currency}, network ${networkId}`,
    ),
  )
  const challenge = await showChallenge(stack.gateway.url, '/v1/joke', 'stripe')
  const authorization = await client.createCredential(challenge)
  const receipt = await sendPaid(stack.gateway.url, '/v1/joke', authorization)
  check(receipt.method === 'stripe' && typeof receipt.reference === 'string', 'expected a stripe receipt')
  const intent = stack.stripe.paymentIntents.get(receipt.reference)
  check(intent?.status === 'succeeded', `expected PaymentIntent ${receipt.reference} to have succeeded`)
  out(
    `   Stripe: PaymentIntent ${intent.id} ${intent.status}, ${intent.amount} ${intent.currency} (metadata mpp_challenge_id ${short(intent.metadata.mpp_challenge_id ?? '')})`,
  )
}

async function demoTempo(stack: Stack, mode: 'pull' | 'push'): Promise<void> {
  const { node } = stack
  section(
    mode === 'pull'
      ? '3. paying with Tempo, pull: the client signs, the gateway broadcasts'
      : '4. paying with Tempo, push: the client broadcasts, the gateway checks the receipt',
  )
  const recipient = accounts.recipient.address
  const before = node.balanceOf(PATH_USD, recipient)
  const payerBefore = node.balanceOf(PATH_USD, accounts.payer.address)
  node.reset() // the call log only: balances and receipts stay
  const client = Mppx.create({
    polyfill: false,
    methods: [
      mppxTempo.charge({
        account: accounts.payer,
        mode,
        getClient: () => createClient({ chain: tempoModerato, transport: viemHttp(node.rpcUrl('client')) }),
      }),
    ],
  })
  const challenge = await showChallenge(stack.gateway.url, '/v1/joke', 'tempo')
  const authorization = await client.createCredential(challenge)
  const credential = Credential.deserialize<{ type: string; signature?: Hex; hash?: Hex }>(authorization)
  const clientBroadcasts = node.methodsCalledBy('client').filter((m) => m.startsWith('eth_sendRawTransaction'))
  if (mode === 'pull') {
    check(
      credential.payload.type === 'transaction' && credential.payload.signature,
      `expected a transaction payload, got ${credential.payload.type}`,
    )
    check(clientBroadcasts.length === 0, 'in pull mode the client must not broadcast')
    out(
      `   pay: mppx tempo.charge signed a Tempo transaction (type ${credential.payload.signature.slice(0, 4)}, ${(credential.payload.signature.length - 2) / 2} bytes) as ${short(accounts.payer.address)}, NOT broadcast:`,
    )
    for (const line of describeTransaction(credential.payload.signature)) out(`        ${line}`)
  } else {
    check(
      credential.payload.type === 'hash' && credential.payload.hash,
      `expected a hash payload, got ${credential.payload.type}`,
    )
    check(clientBroadcasts.length > 0, 'in push mode the client broadcasts the transaction itself')
    out(
      `   pay: mppx tempo.charge broadcast the transfer itself (${clientBroadcasts.join(', ')}): tx ${credential.payload.hash}`,
    )
    out(`        the credential carries only the hash and source ${credential.source ?? '-'}`)
  }
  const receipt = await sendPaid(stack.gateway.url, '/v1/joke', authorization)
  check(
    receipt.method === 'tempo' && typeof receipt.reference === 'string' && /^0x[0-9a-f]{64}$/i.test(receipt.reference),
    'expected a tempo receipt with a transaction hash',
  )
  const onChain = node.receipt(receipt.reference as Hex)
  check(onChain?.status === '0x1', `expected transaction ${receipt.reference} to have succeeded on chain`)
  const gatewayCalls = [...new Set(node.methodsCalledBy('gateway'))]
  out(
    `   chain: tx ${short(receipt.reference, 12)} in block ${BigInt(onChain.blockNumber)}, status success; the gateway called ${gatewayCalls.join(', ')}`,
  )
  const after = node.balanceOf(PATH_USD, recipient)
  const payerAfter = node.balanceOf(PATH_USD, accounts.payer.address)
  check(after - before === 500_000n, `expected the recipient to receive 0.50 pathUSD, got ${usd6(after - before)}`)
  out(`   recipient ${short(recipient)}: ${usd6(before)} → ${usd6(after)} pathUSD`)
  out(
    `   payer     ${short(accounts.payer.address)}: ${usd6(payerBefore)} → ${usd6(payerAfter)} pathUSD (price + its own network fee)`,
  )
}

async function main(): Promise<number> {
  const started = Date.now()
  const logs: string[] = []
  const opened: Array<() => Promise<void>> = []
  const deadline = setTimeout(() => {
    process.stderr.write(`\ndemo failed: it did not finish within ${DEADLINE_MS / 1000} s\n`)
    process.exit(1)
  }, DEADLINE_MS)
  try {
    const stack = await start(logs, opened)
    out('mpp-gateway demo: everything runs locally on 127.0.0.1; no network, no real money.')
    out()
    out(`  example API     ${stack.api.url}   examples/upstream/server.mjs (knows nothing about payments)`)
    out(`  fake Stripe     ${stack.stripe.url}   src/sandbox/fake-stripe.ts`)
    out(
      `  Tempo node      ${stack.node.url}   src/sandbox/tempo-node.ts (chain 42431; payer ${short(accounts.payer.address)} funded with ${usd6(PAYER_FUNDS)} pathUSD)`,
    )
    out(`  gateway         ${stack.gateway.url}   src/server/server.ts, config ${stack.configFile}`)
    out()
    for (const route of ROUTES)
      out(
        `  route  ${route.match.padEnd(16)} ${route.price === 'free' ? 'free' : `${route.price} USD via stripe or tempo`}`,
      )

    await demoFree(stack)
    await demoStripe(stack)
    await demoTempo(stack, 'pull')
    await demoTempo(stack, 'push')

    section('done')
    out(`402 → pay → 200 with a Payment-Receipt, for stripe, tempo pull and tempo push (${Date.now() - started} ms).`)
    out('Next: docs/configuration.md, examples/ (docker compose and Kubernetes sidecar), `npm test`.')
    return 0
  } catch (error) {
    const message =
      error instanceof Error
        ? error instanceof DemoFailure
          ? error.message
          : (error.stack ?? error.message)
        : String(error)
    process.stderr.write(`\ndemo failed: ${message}\n`)
    if (logs.length > 0) process.stderr.write(`\nthe gateway's last log lines:\n${logs.slice(-15).join('')}`)
    return 1
  } finally {
    clearTimeout(deadline)
    for (const close of opened.reverse()) await close().catch(() => undefined)
  }
}

const code = await main()
process.exitCode = code
// Everything is closed; should a client socket linger, do not keep a newcomer waiting.
setTimeout(() => process.exit(code), 500).unref()
