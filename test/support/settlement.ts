import http from 'node:http'
import type { Hex } from 'viem'
import * as AttributionMemo from '../../src/methods/tempo/attribution-memo.js'
import { type Receipt, parse as parseReceipt } from '../../src/protocol/receipt.js'
import { createRedisStore } from '../../src/store/redis.js'
import type { LedgerEntry } from '../../src/store/types.js'
import type { FakeStripe } from './fake-stripe.js'
import { STRIPE_TEST_KEY, TEST_REALM } from './gateway.js'
import { type RawResponse, readResponse, request } from './http.js'
import { authorizationFor, challengeFor } from './pay.js'
import { PATH_USD, type TempoNode } from './tempo-node.js'
import { accounts, signPaymentTx } from './tempo-tx.js'

/** Helpers for the settlement-recovery tests (issue 12): retries, aborted requests, ledger and receipts. */

export const gatewayProblemType = (slug: string) => `urn:mpp-gateway:problem:${slug}`
export const PAYMENT_IN_PROGRESS = gatewayProblemType('payment-in-progress')
export const STORE_UNAVAILABLE = gatewayProblemType('store-unavailable')

/** The `methods.stripe` block `writeTestConfig` writes, with another timeout. */
export function stripeBlock(stripeUrl: string, timeout: string): Record<string, unknown> {
  return {
    secretKey: STRIPE_TEST_KEY,
    networkId: 'profile_test',
    paymentMethodTypes: ['card'],
    apiBase: stripeUrl,
    timeout,
  }
}

/** The `methods.tempo` block for the stand-in: pull only, paid to `accounts.recipient` in pathUSD. */
export function tempoBlock(node: TempoNode, timeout: string): Record<string, unknown> {
  return {
    rpcUrl: node.rpcUrl('gateway'),
    chainId: 42431,
    currency: PATH_USD,
    recipient: accounts.recipient.address,
    timeout,
  }
}

export function problemTypeOf(response: RawResponse): string | undefined {
  try {
    return (JSON.parse(response.body) as { type?: string }).type
  } catch {
    return undefined
  }
}

export interface Presented {
  /** the last answer: the first one that was not a retryable 503 */
  readonly response: RawResponse
  /** every answer, in order */
  readonly answers: readonly RawResponse[]
}

/**
 * Presents one credential again and again, as a payer's client would: a 503 whose problem type is in
 * `retryOn` is retried (every `intervalMs`, whatever Retry-After says, so tests stay short) until
 * another answer comes or `timeoutMs` runs out.
 */
export async function presentUntilSettled(
  url: string,
  authorization: string,
  options: { retryOn?: readonly string[]; timeoutMs?: number; intervalMs?: number } = {},
): Promise<Presented> {
  const { retryOn = [PAYMENT_IN_PROGRESS], timeoutMs = 8_000, intervalMs = 200 } = options
  const deadline = Date.now() + timeoutMs
  const answers: RawResponse[] = []
  for (;;) {
    const response = await request(url, { headers: { authorization } })
    answers.push(response)
    const retryable = response.status === 503 && retryOn.includes(problemTypeOf(response) ?? '')
    if (!retryable || Date.now() >= deadline) return { response, answers }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

export interface PendingRequest {
  /** the answer, or the error of a request that was aborted or whose server died */
  readonly settled: Promise<RawResponse | Error>
  /** resolves with the status once the response head arrived (never, if none does) */
  readonly responded: Promise<number>
  /** destroys the client's socket, as a payer that gives up does */
  abort(): void
}

/** A GET sent now, answered (or not) later: for payers that leave and gateways that die mid-request. */
export function sendPending(url: string, headers: Record<string, string>): PendingRequest {
  const { hostname, port, pathname, search } = new URL(url)
  let req: http.ClientRequest
  let onHead: (status: number) => void = () => {}
  const responded = new Promise<number>((resolve) => {
    onHead = resolve
  })
  const settled = new Promise<RawResponse | Error>((resolve) => {
    req = http.request({ hostname, port, path: pathname + search, method: 'GET', headers, agent: false }, (res) => {
      onHead(res.statusCode ?? 0)
      readResponse(res).then(resolve, resolve)
    })
    req.on('error', resolve)
    req.end()
  })
  return { settled, responded, abort: () => req.destroy() }
}

/** The Payment-Receipt of an answer (throws when it has none). */
export function receiptOf(response: RawResponse): Receipt {
  const header = response.headers['payment-receipt']
  if (typeof header !== 'string') throw new Error(`no Payment-Receipt on a ${response.status}: ${response.body}`)
  return parseReceipt(header)
}

/** `POST /v1/payment_intents` calls the fake Stripe received for one SPT (or all of them). */
export function paymentIntentPosts(stripe: FakeStripe, spt?: string): number {
  return stripe.requests.filter(
    (r) =>
      r.method === 'POST' &&
      r.path === '/v1/payment_intents' &&
      (spt === undefined || r.form.shared_payment_granted_token === spt),
  ).length
}

/** A ledger entry as the settlement state machine writes it: `state` is new with issue 12. */
export type StatefulLedgerEntry = LedgerEntry & { readonly state?: string }

/** The ledger entries of one challenge, oldest first, read from Redis as an operator would. */
export async function ledgerFor(redisUrl: string, keyPrefix: string, challengeId: string) {
  const store = createRedisStore({ url: redisUrl, keyPrefix })
  try {
    const entries: StatefulLedgerEntry[] = await store.ledger()
    return entries.filter((e) => e.challengeId === challengeId)
  } finally {
    await store.close()
  }
}

/** A unique Redis key prefix per test, on the shared Redis. */
export const uniquePrefix = (name: string) => `test:settle:${name}:${process.pid}:${Date.now()}:${Math.random()}:`

/** A Stripe credential for the route's 402: a fresh 402, and an SPT with room for the price. */
export async function stripeCredential(
  stripe: FakeStripe,
  url: string,
): Promise<{ authorization: string; challengeId: string; spt: string; challenge: ReturnType<typeof challengeFor> }> {
  const challenge = challengeFor(await request(url))
  const spt = await stripe.issueSpt({ paymentMethod: 'pm_card_visa', maxAmount: 10_000, currency: 'usd' })
  return { authorization: authorizationFor(challenge, { spt }), challengeId: challenge.id, spt, challenge }
}

/** A Tempo pull credential for the route's 402: the payer signs a transfer of `amount` bound to the challenge. */
export async function tempoPullCredential(
  url: string,
  amount: bigint,
  validBeforeSeconds = 25,
): Promise<{ authorization: string; challengeId: string; validBefore: number; expiresMs: number }> {
  const challenge = challengeFor(await request(url), 'tempo')
  const validBefore = Math.floor(Date.now() / 1000) + validBeforeSeconds
  const signature: Hex = await signPaymentTx({
    transfers: [
      {
        to: accounts.recipient.address,
        amount,
        memo: AttributionMemo.encode({ realm: TEST_REALM, challengeId: challenge.id }),
      },
    ],
    validBefore,
  })
  return {
    authorization: authorizationFor(challenge, { type: 'transaction', signature }),
    challengeId: challenge.id,
    validBefore,
    expiresMs: Date.parse(challenge.expires ?? ''),
  }
}
