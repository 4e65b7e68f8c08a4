import { Receipt as MppxReceipt } from 'mppx'
import { createClient, getAddress, http, keccak256, type Hex } from 'viem'
import { sendTransactionSync } from 'viem/actions'
import { tempoModerato } from 'viem/chains'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import * as AttributionMemo from '../../src/methods/tempo/attribution-memo.js'
import { DEFAULT_ROUTES, type TestGateway, TEST_REALM, startTestGateway } from '../support/gateway.js'
import { request } from '../support/http.js'
import { mppxStripeClient } from '../support/mppx-stripe.js'
import { authorizationFor, challengeFor, challengesOf, problemOf, problemType } from '../support/pay.js'
import { SHARED_REDIS_URL } from '../support/redis-server.js'
import { type Stack, startStack } from '../support/stack.js'
import { FEE_MANAGER, PATH_USD, startTempoNode, type TempoNode } from '../support/tempo-node.js'
import { tempoPayer } from '../support/tempo-payer.js'
import { accounts, KEYS, signPaymentTx, transferCall } from '../support/tempo-tx.js'
import { privateKeyToAccount, generatePrivateKey } from 'viem/accounts'

const USD = (text: string) => BigInt(Math.round(Number(text) * 1e6))
const ROUTES = [
  ...DEFAULT_ROUTES,
  { match: 'GET /v1/whoami', price: '0', description: 'Who am I' },
  { match: 'POST /v1/generate', price: '0.05', splits: [{ recipient: accounts.platform.address, amount: '0.01' }] },
]

let node: TempoNode
let stack: Stack
let gw: TestGateway
let sponsored: TestGateway

const tempoBlock = (node: TempoNode, extra: Record<string, unknown> = {}) => ({
  rpcUrl: node.rpcUrl('gateway'),
  chainId: 42431,
  currency: PATH_USD,
  recipient: accounts.recipient.address,
  timeout: '1s',
  ...extra,
})

beforeAll(async () => {
  node = await startTempoNode()
  stack = await startStack({
    storeUrl: SHARED_REDIS_URL,
    routes: ROUTES,
    tempo: tempoBlock(node, { modes: ['pull', 'push'] }),
  })
  gw = stack.gw
  sponsored = await startTestGateway({
    upstreamUrl: stack.upstream.url,
    storeUrl: SHARED_REDIS_URL,
    routes: [{ match: 'GET /v1/cheap', price: '0.50' }],
    tempo: tempoBlock(node, { rpcUrl: node.rpcUrl('sponsored-gateway'), feePayer: { privateKey: KEYS.sponsor } }),
  })
})
afterAll(async () => {
  await sponsored?.close()
  await stack?.close()
  await node?.close()
})
beforeEach(() => {
  node.reset()
  node.setBalance(PATH_USD, accounts.payer.address, USD('100'))
  node.setBalance(PATH_USD, accounts.sponsor.address, USD('100'))
  node.setBalance(PATH_USD, accounts.recipient.address, 0n)
  node.setBalance(PATH_USD, accounts.platform.address, 0n)
})

const balance = (address: Hex) => node.balanceOf(PATH_USD, address)
const broadcastsBy = (tag: string) => node.methodsCalledBy(tag).filter((m) => m.startsWith('eth_sendRawTransaction'))

describe('tempo through the gateway, paid by the mppx client', () => {
  it('offers tempo beside stripe in one 402, with the spec request shape', async () => {
    const res = await request(`${gw.url}/v1/cheap`)
    expect(res.status).toBe(402)
    expect(challengesOf(res).map((c) => c.method)).toEqual(['stripe', 'tempo'])
    const tempo = challengeFor(res, 'tempo')
    expect(JSON.parse(Buffer.from(tempo.request, 'base64url').toString())).toEqual({
      amount: '500000',
      // addresses go out in EIP-55 form
      currency: getAddress(PATH_USD),
      recipient: accounts.recipient.address,
      methodDetails: { chainId: 42431 },
    })
  })

  it('pull: the gateway broadcasts the signed transfer; the recipient gets exactly the price', async () => {
    const payer = tempoPayer(node, accounts.payer, 'pull')
    const res = await payer.fetch(`${gw.url}/v1/cheap`)
    expect(res.status).toBe(200)
    const receipt = MppxReceipt.deserialize(res.headers.get('payment-receipt')!)
    expect(receipt).toMatchObject({ method: 'tempo', status: 'success' })
    expect(receipt.reference).toMatch(/^0x[0-9a-f]{64}$/)
    expect(node.receipt(receipt.reference as Hex)).toBeDefined()
    expect(balance(accounts.recipient.address)).toBe(USD('0.50'))
    // the payer paid the price and its own fee
    expect(balance(accounts.payer.address)).toBeLessThan(USD('100') - USD('0.50'))
    expect(broadcastsBy('gateway')).toEqual(['eth_sendRawTransactionSync'])
    expect(stack.upstream.requests.at(-1)?.headers.authorization).toBeUndefined()
  })

  it('push: the payer broadcasts, the gateway only reads the receipt', async () => {
    const payer = tempoPayer(node, accounts.payer, 'push')
    const res = await payer.fetch(`${gw.url}/v1/cheap`)
    expect(res.status).toBe(200)
    expect(MppxReceipt.deserialize(res.headers.get('payment-receipt')!).reference).toMatch(/^0x[0-9a-f]{64}$/)
    expect(balance(accounts.recipient.address)).toBe(USD('0.50'))
    expect(broadcastsBy('gateway')).toEqual([])
    expect(node.methodsCalledBy('gateway')).toContain('eth_getTransactionReceipt')
  })

  it('fee-sponsored pull: the payer pays the price only, the sponsor only the fee', async () => {
    const payer = tempoPayer(node, accounts.payer, 'pull')
    const res = await payer.fetch(`${sponsored.url}/v1/cheap`)
    expect(res.status, await res.clone().text()).toBe(200)
    expect(balance(accounts.recipient.address)).toBe(USD('0.50'))
    expect(balance(accounts.payer.address)).toBe(USD('100') - USD('0.50'))
    const fee = USD('100') - balance(accounts.sponsor.address)
    expect(fee).toBeGreaterThan(0n)
    expect(balance(FEE_MANAGER)).toBeGreaterThanOrEqual(fee)
  })

  it('zero-amount proof: the payer signs, nothing moves, the receipt names the challenge', async () => {
    const payer = tempoPayer(node, accounts.payer)
    const res = await payer.fetch(`${gw.url}/v1/whoami`)
    expect(res.status).toBe(200)
    const receipt = MppxReceipt.deserialize(res.headers.get('payment-receipt')!)
    expect(receipt.reference).not.toMatch(/^0x/)
    expect(node.methodsCalledBy('gateway')).toEqual([])
    expect(balance(accounts.payer.address)).toBe(USD('100'))
  })

  it('splits: the platform gets its part and the recipient the rest', async () => {
    const payer = tempoPayer(node, accounts.payer, 'pull')
    const res = await payer.fetch(`${gw.url}/v1/generate`, {
      method: 'POST',
      body: '{"prompt":"hi"}',
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(200)
    expect(balance(accounts.recipient.address)).toBe(USD('0.04'))
    expect(balance(accounts.platform.address)).toBe(USD('0.01'))
  })

  it('the same 402 can be paid with stripe instead', async () => {
    const client = mppxStripeClient(stack.stripe)
    const res = await client.fetch(`${gw.url}/v1/cheap`)
    expect(res.status).toBe(200)
    expect(MppxReceipt.deserialize(res.headers.get('payment-receipt')!).method).toBe('stripe')
    expect(balance(accounts.recipient.address)).toBe(0n)
  })
})

describe('tempo refusals', () => {
  it('a replayed credential is refused and pays nothing twice', async () => {
    const payer = tempoPayer(node, accounts.payer, 'pull')
    const authorization = await payer.authorizationFor(`${gw.url}/v1/cheap`)
    expect((await request(`${gw.url}/v1/cheap`, { headers: { authorization } })).status).toBe(200)
    const replay = await request(`${gw.url}/v1/cheap`, { headers: { authorization } })
    expect(replay.status).toBe(402)
    expect(problemOf(replay).type).toBe(problemType('invalid-challenge'))
    expect(balance(accounts.recipient.address)).toBe(USD('0.50'))
  })

  it('a push transaction hash cannot pay a second challenge', async () => {
    const payer = tempoPayer(node, accounts.payer, 'push')
    const first = await payer.fetch(`${gw.url}/v1/cheap`)
    const hash = MppxReceipt.deserialize(first.headers.get('payment-receipt')!).reference
    const fresh = challengeFor(await request(`${gw.url}/v1/cheap`), 'tempo')
    const reuse = await request(`${gw.url}/v1/cheap`, {
      headers: {
        authorization: authorizationFor(
          fresh,
          { type: 'hash', hash },
          `did:pkh:eip155:42431:${accounts.payer.address}`,
        ),
      },
    })
    expect(reuse.status).toBe(402)
    expect(problemOf(reuse)).toMatchObject({ type: problemType('verification-failed') })
    expect(problemOf(reuse).detail).toMatch(/attribution memo/)
  })

  it('50 concurrent presentations of one credential settle once', async () => {
    const payer = tempoPayer(node, accounts.payer, 'pull')
    const authorization = await payer.authorizationFor(`${gw.url}/v1/cheap`)
    const before = stack.upstream.requests.length
    const results = await Promise.all(
      Array.from({ length: 50 }, () => request(`${gw.url}/v1/cheap`, { headers: { authorization } })),
    )
    expect(results.filter((r) => r.status === 200)).toHaveLength(1)
    // the same credential: "in progress, retry" while it settles, "already used" once it was served
    const others = results.filter((r) => r.status !== 200).map((r) => `${r.status} ${problemOf(r).type}`)
    expect(others).toHaveLength(49)
    const expected = [`402 ${problemType('invalid-challenge')}`, '503 urn:mpp-gateway:problem:payment-in-progress']
    for (const answer of others) expect(expected).toContain(answer)
    expect(stack.upstream.requests.length - before).toBe(1)
    expect(balance(accounts.recipient.address)).toBe(USD('0.50'))
    expect(broadcastsBy('gateway')).toHaveLength(1)
  })

  it("a transaction the node finds expired is refused with the node's reason", async () => {
    const payer = tempoPayer(node, accounts.payer, 'pull')
    const authorization = await payer.authorizationFor(`${gw.url}/v1/cheap`)
    node.increaseTime(60)
    const res = await request(`${gw.url}/v1/cheap`, { headers: { authorization } }).finally(() =>
      node.increaseTime(-60),
    )
    expect(res.status).toBe(402)
    expect(problemOf(res).type).toBe(problemType('verification-failed'))
    expect(problemOf(res).detail).toMatch(/rejected the transaction/)
    expect(balance(accounts.recipient.address)).toBe(0n)
  })

  it('an underfunded payer: its pull transaction reverts and the route is not served', async () => {
    const poor = privateKeyToAccount(generatePrivateKey())
    node.setBalance(PATH_USD, poor.address, USD('0.10'))
    const challenge = challengeFor(await request(`${gw.url}/v1/cheap`), 'tempo')
    const signature = await signPaymentTx({
      account: poor,
      transfers: [
        {
          to: accounts.recipient.address,
          amount: USD('0.50'),
          memo: AttributionMemo.encode({ realm: TEST_REALM, challengeId: challenge.id }),
        },
      ],
      validBefore: Math.floor(Date.now() / 1000) + 25,
    })
    const before = stack.upstream.requests.length
    const res = await request(`${gw.url}/v1/cheap`, {
      headers: { authorization: authorizationFor(challenge, { type: 'transaction', signature }) },
    })
    expect(res.status).toBe(402)
    expect(problemOf(res).detail).toMatch(/reverted/)
    expect(stack.upstream.requests.length).toBe(before)
    expect(balance(accounts.recipient.address)).toBe(0n)
  })

  it('an underfunded payer on a sponsored route is refused before the sponsor signs anything', async () => {
    const poor = privateKeyToAccount(generatePrivateKey())
    node.setBalance(PATH_USD, poor.address, USD('0.10'))
    const res = await request(`${sponsored.url}/v1/cheap`)
    const challenge = challengeFor(res, 'tempo')
    const signature = await signPaymentTx({
      account: poor,
      sponsored: 'handoff',
      transfers: [
        {
          to: accounts.recipient.address,
          amount: USD('0.50'),
          memo: AttributionMemo.encode({ realm: TEST_REALM, challengeId: challenge.id }),
        },
      ],
      validBefore: Math.floor(Date.now() / 1000) + 25,
    })
    const paid = await request(`${sponsored.url}/v1/cheap`, {
      headers: { authorization: authorizationFor(challenge, { type: 'transaction', signature }) },
    })
    expect(paid.status).toBe(402)
    expect(problemOf(paid).type).toBe(problemType('payment-insufficient'))
    expect(broadcastsBy('sponsored-gateway')).toEqual([])
    expect(balance(accounts.sponsor.address)).toBe(USD('100'))
  })

  it('a reverted push transaction pays nothing', async () => {
    const poor = privateKeyToAccount(generatePrivateKey())
    node.setBalance(PATH_USD, poor.address, USD('0.10'))
    const challenge = challengeFor(await request(`${gw.url}/v1/cheap`), 'tempo')
    // an explicit gas limit skips estimation, which would refuse the doomed transfer before it is sent
    const wallet = createClient({ chain: tempoModerato, transport: http(node.rpcUrl('payer')) })
    const memo = AttributionMemo.encode({ realm: TEST_REALM, challengeId: challenge.id })
    const receipt = await sendTransactionSync(wallet, {
      account: poor,
      calls: [transferCall({ to: accounts.recipient.address, amount: USD('0.50'), memo })],
      nonceKey: 'expiring',
      feeToken: PATH_USD,
      gas: 100_000n,
    } as never)
    expect(receipt.status).toBe('reverted')
    const res = await request(`${gw.url}/v1/cheap`, {
      headers: {
        authorization: authorizationFor(
          challenge,
          { type: 'hash', hash: receipt.transactionHash },
          `did:pkh:eip155:42431:${poor.address}`,
        ),
      },
    })
    expect(res.status).toBe(402)
    expect(problemOf(res).detail).toMatch(/reverted/)
  })

  it('an unknown transaction hash is refused', async () => {
    const challenge = challengeFor(await request(`${gw.url}/v1/cheap`), 'tempo')
    const res = await request(`${gw.url}/v1/cheap`, {
      headers: { authorization: authorizationFor(challenge, { type: 'hash', hash: keccak256('0x01') }) },
    })
    expect(res.status).toBe(402)
    expect(problemOf(res)).toMatchObject({ type: problemType('verification-failed') })
    expect(problemOf(res).detail).toMatch(/knows no included transaction/)
  })

  it('RPC down: 503, nothing forwarded, and the same credential pays once it is back', async () => {
    const payer = tempoPayer(node, accounts.payer, 'pull')
    const authorization = await payer.authorizationFor(`${gw.url}/v1/cheap`)
    const before = stack.upstream.requests.length
    node.faults.down = true
    const down = await request(`${gw.url}/v1/cheap`, { headers: { authorization } })
    expect(down.status).toBe(503)
    expect(down.headers['retry-after']).toBeDefined()
    expect(JSON.parse(down.body).type).toBe('urn:mpp-gateway:problem:tempo-rpc-unavailable')
    expect(stack.upstream.requests.length).toBe(before)
    node.faults.down = false
    const retried = await request(`${gw.url}/v1/cheap`, { headers: { authorization } })
    expect(retried.status).toBe(200)
    expect(balance(accounts.recipient.address)).toBe(USD('0.50'))
  })
})

describe('tempo operations', () => {
  it('a node slower than methods.tempo.timeout: 503, nothing forwarded', async () => {
    const payer = tempoPayer(node, accounts.payer, 'pull')
    const authorization = await payer.authorizationFor(`${gw.url}/v1/cheap`)
    const before = stack.upstream.requests.length
    node.faults.delayMs = 1_500
    const res = await request(`${gw.url}/v1/cheap`, { headers: { authorization } })
    expect(res.status).toBe(503)
    expect(problemOf(res).detail).toMatch(/did not answer the broadcast within 1000 ms/)
    expect(stack.upstream.requests.length).toBe(before)
  })

  it('readiness follows the Tempo node', async () => {
    expect((await request(`${gw.url}/__gateway/readyz`)).status).toBe(200)
    node.faults.down = true
    // a backend's probe result stands for up to 2 s (readiness must not become a stream of RPC calls)
    await expect
      .poll(async () => (await request(`${gw.url}/__gateway/readyz`)).status, { timeout: 5_000, interval: 200 })
      .toBe(503)
  })

  it('the sponsor key and the signed transactions never reach the log', async () => {
    const payer = tempoPayer(node, accounts.payer, 'pull')
    const authorization = await payer.authorizationFor(`${sponsored.url}/v1/cheap`)
    expect((await request(`${sponsored.url}/v1/cheap`, { headers: { authorization } })).status).toBe(200)
    // a refusal is logged with its reason
    const challenge = challengeFor(await request(`${sponsored.url}/v1/cheap`), 'tempo')
    const unfunded = await signPaymentTx({
      account: privateKeyToAccount(generatePrivateKey()),
      sponsored: 'handoff',
      transfers: [
        {
          to: accounts.recipient.address,
          amount: USD('0.50'),
          memo: AttributionMemo.encode({ realm: TEST_REALM, challengeId: challenge.id }),
        },
      ],
      validBefore: Math.floor(Date.now() / 1000) + 25,
    })
    const refused = authorizationFor(challenge, { type: 'transaction', signature: unfunded })
    expect((await request(`${sponsored.url}/v1/cheap`, { headers: { authorization: refused } })).status).toBe(402)
    const log = sponsored.logs.join('\n')
    expect(log).toContain('payment refused')
    expect(log).not.toContain(unfunded.slice(2, 66))
    for (const secret of [KEYS.sponsor, KEYS.sponsor.slice(2), authorization.slice('Payment '.length)])
      expect(log).not.toContain(secret)
    const signed = JSON.parse(Buffer.from(authorization.slice('Payment '.length), 'base64url').toString()).payload
      .signature as string
    expect(log).not.toContain(signed.slice(2, 66))
  })
})
