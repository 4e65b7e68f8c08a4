// The payment backends of the paid paths, in a process of their own: the tests' fake Stripe and
// Tempo stand-in, plus what the bench asks of a payer. On request it writes a file of fresh,
// valid `Authorization: Payment …` values (one a line) so no signing happens while timing, and it
// reports how long the stand-ins themselves spent per call (server side), the "backend's own time".
import diagnostics from 'node:diagnostics_channel'
import { writeFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Hex } from 'viem'
import * as AttributionMemo from '../../src/methods/tempo/attribution-memo.js'
import { type Challenge, computeId, parseList } from '../../src/protocol/challenge.js'
import { serialize as serializeCredential } from '../../src/protocol/credential.js'
import { startFakeStripe } from '../../test/support/fake-stripe.js'
import { PATH_USD, startTempoNode } from '../../test/support/tempo-node.js'
import { accounts, signPaymentTx } from '../../test/support/tempo-tx.js'

export interface CredentialRequest {
  readonly kind: 'stripe' | 'tempo-pull' | 'tempo-push'
  readonly count: number
  readonly file: string
  /** one WWW-Authenticate line of the route's 402, the template of every challenge minted */
  readonly challengeLine: string
  readonly secretKey: string
  readonly realm: string
}

const stripe = await startFakeStripe()
const node = await startTempoNode()
node.setBalance(PATH_USD, accounts.payer.address, 10n ** 15n)

// Server-side time of every stand-in call, from request to the end of the response.
const started = new WeakMap<ServerResponse, number>()
// firstAt/lastAt (epoch ms): when paid traffic reached the stand-in, so a run that used up its
// credentials before wrk's duration ended is timed by when payments actually happened.
const busy = { stripe: { ms: 0, calls: 0, firstAt: 0, lastAt: 0 }, tempo: { ms: 0, calls: 0, firstAt: 0, lastAt: 0 } }
const backendOf = (port: number | undefined) =>
  port === stripe.port ? busy.stripe : port === Number(new URL(node.url).port) ? busy.tempo : undefined
diagnostics.subscribe('http.server.request.start', (message) => {
  const { response } = message as { response: ServerResponse }
  started.set(response, performance.now())
})
diagnostics.subscribe('http.server.response.finish', (message) => {
  const { request, response } = message as { request: IncomingMessage; response: ServerResponse }
  const at = started.get(response)
  const backend = backendOf(request.socket?.localPort)
  if (at === undefined || !backend) return
  backend.ms += performance.now() - at
  backend.calls++
  backend.lastAt = Date.now()
  if (backend.firstAt === 0) backend.firstAt = backend.lastAt
})

// Both stand-ins keep a log of every call for tests; a benchmark sends hundreds of thousands.
setInterval(() => {
  stripe.requests.length = 0
  node.reset()
}, 1000).unref()

/**
 * Challenges as the gateway would issue them: the route's template with a fresh expiry, so a fresh
 * id. Expiries only ever go down, one millisecond apart, so no two files share a challenge.
 */
let lastExpires = Number.POSITIVE_INFINITY
function mintChallenges(request: CredentialRequest): Challenge[] {
  const template = parseList(request.challengeLine)[0]!
  const { id: _id, description, ...bound } = template
  return Array.from({ length: request.count }, () => {
    lastExpires = Math.min(Date.parse(template.expires!), lastExpires - 1)
    const fresh = { ...bound, expires: new Date(lastExpires).toISOString() }
    return { ...fresh, id: computeId(request.secretKey, fresh), ...(description ? { description } : {}) }
  })
}

const authorization = (challenge: Challenge, payload: unknown, source?: string) =>
  `Payment ${serializeCredential({ challenge, payload, ...(source ? { source } : {}) })}`

async function signedTransfer(challenge: Challenge, realm: string): Promise<Hex> {
  const charged = JSON.parse(Buffer.from(challenge.request, 'base64url').toString()) as {
    amount: string
    recipient: Hex
  }
  return signPaymentTx({
    transfers: [
      {
        to: charged.recipient,
        amount: BigInt(charged.amount),
        memo: AttributionMemo.encode({ realm, challengeId: challenge.id }),
      },
    ],
    validBefore: Math.floor(Date.now() / 1000) + 150,
  })
}

async function broadcast(rawTransactions: Hex[]): Promise<Hex[]> {
  const hashes: Hex[] = []
  for (let i = 0; i < rawTransactions.length; i += 100) {
    const batch = rawTransactions
      .slice(i, i + 100)
      .map((raw, j) => ({ jsonrpc: '2.0', id: j, method: 'eth_sendRawTransaction', params: [raw] }))
    const answers = (await (
      await fetch(node.rpcUrl('payer'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(batch),
      })
    ).json()) as Array<{ result?: Hex; error?: { message: string } }>
    for (const answer of answers) {
      if (!answer.result) throw new Error(`tempo stand-in refused a payer transaction: ${answer.error?.message}`)
      hashes.push(answer.result)
    }
  }
  return hashes
}

async function credentials(request: CredentialRequest): Promise<void> {
  const challenges = mintChallenges(request)
  const lines: string[] = []
  if (request.kind === 'stripe') {
    for (const challenge of challenges) {
      const spt = await stripe.issueSpt({ paymentMethod: 'pm_card_visa', maxAmount: 1_000_000, currency: 'usd' })
      lines.push(authorization(challenge, { spt }))
    }
  } else {
    const signed: Hex[] = []
    for (const challenge of challenges) signed.push(await signedTransfer(challenge, request.realm))
    if (request.kind === 'tempo-pull') {
      for (const [i, challenge] of challenges.entries())
        lines.push(authorization(challenge, { type: 'transaction', signature: signed[i] }))
    } else {
      const hashes = await broadcast(signed)
      const source = `did:pkh:eip155:${node.chainId}:${accounts.payer.address}`
      for (const [i, challenge] of challenges.entries())
        lines.push(authorization(challenge, { type: 'hash', hash: hashes[i] }, source))
    }
  }
  writeFileSync(request.file, `${lines.join('\n')}\n`)
}

process.on('message', (message: { id: number; cmd: string; request?: CredentialRequest }) => {
  const reply = (body: object) => process.send!({ id: message.id, ...body })
  if (message.cmd === 'credentials') {
    credentials(message.request!).then(
      () => reply({ ok: true }),
      (error: Error) => reply({ ok: false, error: error.message }),
    )
  } else if (message.cmd === 'busy') {
    reply({ ok: true, busy: structuredClone(busy) })
    for (const backend of Object.values(busy)) Object.assign(backend, { ms: 0, calls: 0, firstAt: 0, lastAt: 0 })
  }
})
process.send!({
  ready: true,
  stripeUrl: stripe.url,
  tempoRpcUrl: node.rpcUrl('gateway'),
  recipient: accounts.recipient.address,
  pathUsd: PATH_USD,
})
