import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import * as AttributionMemo from '../../src/methods/tempo/attribution-memo.js'
import { type TestGateway, TEST_REALM, startTestGateway } from '../support/gateway.js'
import { request } from '../support/http.js'
import { authorizationFor, challengeFor, problemOf, problemType } from '../support/pay.js'
import { SHARED_REDIS_URL } from '../support/redis-server.js'
import { feeInTokenUnits, PATH_USD, startTempoNode, type TempoNode } from '../support/tempo-node.js'
import { accounts, KEYS, signPaymentTx } from '../support/tempo-tx.js'
import { type TestUpstream, startUpstream } from '../support/upstream.js'

// Issue 11 item 6: a payer must not be able to make the fee sponsor pay for transactions that fail.
// Two gateway replicas on one Redis, both sponsoring with the same key.

const SPONSOR_FUNDS = 100_000_000n
const PRICE = 500_000n

let node: TempoNode
let upstream: TestUpstream
let replicas: TestGateway[]
beforeAll(async () => {
  node = await startTempoNode()
  upstream = await startUpstream()
  const keyPrefix = `test:fee-sponsor:${process.pid}:${Date.now()}:`
  replicas = await Promise.all(
    ['sponsor-a', 'sponsor-b'].map((tag) =>
      startTestGateway({
        upstreamUrl: upstream.url,
        storeUrl: SHARED_REDIS_URL,
        keyPrefix,
        routes: [{ match: 'GET /v1/cheap', price: '0.50' }],
        tempo: {
          rpcUrl: node.rpcUrl(tag),
          chainId: 42431,
          currency: PATH_USD,
          recipient: accounts.recipient.address,
          timeout: '2s',
          feePayer: { privateKey: KEYS.sponsor },
        },
      }),
    ),
  )
})
afterAll(async () => {
  await Promise.all((replicas ?? []).map((r) => r.close()))
  await upstream?.close()
  await node?.close()
})
beforeEach(() => {
  node.reset()
  node.setBalance(PATH_USD, accounts.sponsor.address, SPONSOR_FUNDS)
})

const sponsorBalance = () => node.balanceOf(PATH_USD, accounts.sponsor.address)
const broadcasts = () =>
  ['sponsor-a', 'sponsor-b'].flatMap((tag) =>
    node.methodsCalledBy(tag).filter((m) => m.startsWith('eth_sendRawTransaction')),
  )

/** A fresh 402 from `gateway` and a sponsored (0x78 handoff) transfer of the price bound to it. */
async function sponsoredPull(
  gateway: TestGateway,
  payer: ReturnType<typeof privateKeyToAccount>,
  gas?: bigint,
): Promise<string> {
  const challenge = challengeFor(await request(`${gateway.url}/v1/cheap`), 'tempo')
  const memo = AttributionMemo.encode({ realm: TEST_REALM, challengeId: challenge.id })
  const signature = await signPaymentTx({
    account: payer,
    sponsored: 'handoff',
    transfers: [{ to: accounts.recipient.address, amount: PRICE, memo }],
    validBefore: Math.floor(Date.now() / 1000) + 25,
    ...(gas && { gas }),
  })
  return authorizationFor(challenge, { type: 'transaction', signature }, `did:pkh:eip155:42431:${payer.address}`)
}

describe('fee sponsorship a payer cannot bleed', () => {
  it('ten sponsored pulls whose gas limit is below what the transfer needs are refused before co-signing; the sponsor pays nothing', async () => {
    const payer = privateKeyToAccount(generatePrivateKey())
    node.setBalance(PATH_USD, payer.address, 100_000_000n)
    const forwarded = upstream.requests.length
    const results = []
    for (let i = 0; i < 10; i++) {
      // 60 000 passes maxGas and maxFee; the stand-in needs 76 000 for a memo transfer
      results.push(
        await request(`${replicas[i % 2]!.url}/v1/cheap`, {
          headers: { authorization: await sponsoredPull(replicas[i % 2]!, payer, 60_000n) },
        }),
      )
    }
    expect(sponsorBalance()).toBe(SPONSOR_FUNDS)
    expect(broadcasts()).toEqual([])
    for (const res of results) {
      expect(res.status).toBe(402)
      expect(problemOf(res)).toMatchObject({
        type: problemType('verification-failed'),
        detail:
          'The gateway does not sponsor this transaction: its gas limit 60000 is below the 76000 the node estimates it needs, so it would run out of gas.',
      })
    }
    expect(node.balanceOf(PATH_USD, payer.address)).toBe(100_000_000n)
    expect(upstream.requests.length).toBe(forwarded)
  })

  it('eight concurrent sponsored pulls across two replicas from a payer funded for one: one is paid, the sponsor pays one fee', async () => {
    const payer = privateKeyToAccount(generatePrivateKey())
    node.setBalance(PATH_USD, payer.address, PRICE)
    const authorizations = await Promise.all(
      Array.from({ length: 8 }, (_, i) => sponsoredPull(replicas[i % 2]!, payer)),
    )
    const forwarded = upstream.requests.length
    const results = await Promise.all(
      authorizations.map((authorization, i) =>
        request(`${replicas[i % 2]!.url}/v1/cheap`, { headers: { authorization } }),
      ),
    )
    expect(results.map((r) => r.status).sort()).toEqual([200, 402, 402, 402, 402, 402, 402, 402])
    for (const refused of results.filter((r) => r.status === 402)) {
      expect([problemType('verification-failed'), problemType('payment-insufficient')]).toContain(
        problemOf(refused).type,
      )
    }
    // exactly one transaction reached the chain, and it succeeded
    expect(broadcasts()).toEqual(['eth_sendRawTransactionSync'])
    const paid = results.find((r) => r.status === 200)!
    const reference = JSON.parse(Buffer.from(paid.headers['payment-receipt'] as string, 'base64url').toString())
      .reference as `0x${string}`
    const receipt = node.receipt(reference)!
    expect(receipt.status).toBe('0x1')
    expect(SPONSOR_FUNDS - sponsorBalance()).toBe(
      feeInTokenUnits(BigInt(receipt.gasUsed), BigInt(receipt.effectiveGasPrice)),
    )
    expect(node.balanceOf(PATH_USD, payer.address)).toBe(0n)
    expect(upstream.requests.length).toBe(forwarded + 1)
  })

  it('the payer is free again once its transaction is included', async () => {
    const payer = privateKeyToAccount(generatePrivateKey())
    node.setBalance(PATH_USD, payer.address, 2n * PRICE)
    for (const gateway of replicas) {
      const res = await request(`${gateway.url}/v1/cheap`, {
        headers: { authorization: await sponsoredPull(gateway, payer) },
      })
      expect(res.status, res.body).toBe(200)
    }
    expect(node.balanceOf(PATH_USD, payer.address)).toBe(0n)
  })
})
