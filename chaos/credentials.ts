import http from 'node:http'
import { keccak256, type Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import * as AttributionMemo from '../src/methods/tempo/attribution-memo.js'
import { type Challenge, parseList } from '../src/protocol/challenge.js'
import { serialize } from '../src/protocol/credential.js'
import type { FakeStripe } from '../src/sandbox/fake-stripe.js'
import { PATH_USD, type TempoNode } from '../src/sandbox/tempo-node.js'
import { signPaymentTx } from '../test/support/tempo-tx.js'
import { PAID_PATH, PRICE_CENTS, PRICE_UNITS, REALM, RECIPIENT } from './cluster.js'

export type Kind = 'stripe' | 'pull' | 'push'
export const KINDS: readonly Kind[] = ['stripe', 'pull', 'push']

/** One pre-made credential: what the client presents, and what the harness knows of it. */
export interface ChaosCredential {
  id: string
  kind: Kind
  challengeId: string
  /** the challenge's `expires`, ms */
  expiresAt: number
  /** `Authorization` header value, byte-identical on every retry */
  authorization: string
  /** the SPT (stripe) or the transaction hash (tempo): the payment's handle, for the report only */
  handle: string
  /**
   * push: the payer's broadcast, run just before the first presentation (as a payer pays, then
   * presents), so a store wipe mid-run does not find hundreds of pre-made pushes already paid
   */
  payFirst?: () => Promise<void>
  /** the credential this one replaces (a fresh challenge after a refusal such as a store reset) */
  replaces?: string
}

export interface Backends {
  stripe: FakeStripe
  tempo: TempoNode
}

/** Asks a replica for a 402 and returns its challenges (one per WWW-Authenticate line). */
export function fetchChallenges(replicaUrl: string): Promise<Challenge[]> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${replicaUrl}${PAID_PATH}`, { agent: false, timeout: 10_000 }, (res) => {
      res.resume()
      if (res.statusCode !== 402) return reject(new Error(`expected 402 from ${replicaUrl}, got ${res.statusCode}`))
      resolve(challengesOfRaw(res.rawHeaders))
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('timeout')))
  })
}

export function challengesOfRaw(rawHeaders: readonly string[]): Challenge[] {
  const challenges: Challenge[] = []
  for (let i = 0; i + 1 < rawHeaders.length; i += 2)
    if (rawHeaders[i]!.toLowerCase() === 'www-authenticate') challenges.push(...parseList(rawHeaders[i + 1]!))
  return challenges
}

/** Builds the credential of `kind` for the challenge of that method among `challenges`. */
export async function makeCredential(
  id: string,
  kind: Kind,
  challenges: readonly Challenge[],
  backends: Backends,
): Promise<ChaosCredential> {
  const method = kind === 'stripe' ? 'stripe' : 'tempo'
  const challenge = challenges.find((c) => c.method === method)
  if (!challenge) throw new Error(`no ${method} challenge offered`)
  const expiresAt = challenge.expires ? Date.parse(challenge.expires) : Date.now() + 300_000
  const base = { id, kind, challengeId: challenge.id, expiresAt }
  if (kind === 'stripe') {
    const spt = await backends.stripe.issueSpt({ maxAmount: PRICE_CENTS, currency: 'usd' })
    return { ...base, authorization: authorization(challenge, { spt }), handle: spt }
  }
  // A fresh payer per credential, on a 2D nonce lane: its transaction can wait for the whole
  // challenge lifetime (the expiring lane allows 300 s) and never conflicts with another's nonce.
  const account = privateKeyToAccount(generatePrivateKey())
  backends.tempo.setBalance(PATH_USD, account.address, 1_000_000n)
  const tx = await signPaymentTx({
    account,
    transfers: [
      { to: RECIPIENT, amount: PRICE_UNITS, memo: AttributionMemo.encode({ realm: REALM, challengeId: challenge.id }) },
    ],
    validBefore: Math.floor(expiresAt / 1000),
    nonceKey: 1n,
    nonce: 0n,
  })
  const hash = keccak256(tx)
  const source = `did:pkh:eip155:42431:${account.address}`
  if (kind === 'pull')
    return {
      ...base,
      authorization: authorization(challenge, { type: 'transaction', signature: tx }, source),
      handle: hash,
    }
  return {
    ...base,
    authorization: authorization(challenge, { type: 'hash', hash }, source),
    handle: hash,
    payFirst: () => broadcast(backends.tempo, tx, hash),
  }
}

/** A second Stripe credential for the same challenge: a new SPT, as a client that gave up on the first might send. */
export async function otherSptFor(credential: ChaosCredential, backends: Backends): Promise<string> {
  const token = JSON.parse(Buffer.from(credential.authorization.slice('Payment '.length), 'base64url').toString())
  const spt = await backends.stripe.issueSpt({ maxAmount: PRICE_CENTS, currency: 'usd' })
  return authorization(token.challenge as Challenge, { spt })
}

function authorization(challenge: Challenge, payload: unknown, source?: string): string {
  return `Payment ${serialize({ challenge, payload, ...(source ? { source } : {}) })}`
}

/** The payer's own broadcast (push): retried until the node has the transaction, whatever faults are armed. */
async function broadcast(tempo: TempoNode, tx: Hex, hash: Hex): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    if (tempo.receipt(hash)) return
    await rpc(tempo.rpcUrl('payer'), 'eth_sendRawTransactionSync', [tx]).catch(() => undefined)
    if (tempo.receipt(hash)) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`push transaction ${hash} never landed`)
}

async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(5000),
  })
  const body = (await res.json()) as { result?: unknown; error?: { message: string } }
  if (body.error) throw new Error(body.error.message)
  return body.result
}
