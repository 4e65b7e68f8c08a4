import http from 'node:http'
import { createClient, http as viemHttp } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { sendTransactionSync } from 'viem/actions'
import { tempoModerato } from 'viem/chains'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as AttributionMemo from '../../src/methods/tempo/attribution-memo.js'
import { type Challenge, computeId, decodeJson, encodeJson } from '../../src/protocol/challenge.js'
import { TEST_REALM, TEST_SECRET } from '../support/gateway.js'
import { request } from '../support/http.js'
import { authorizationFor, challengeFor, problemOf } from '../support/pay.js'
import { SHARED_REDIS_URL } from '../support/redis-server.js'
import { type Stack, startStack } from '../support/stack.js'
import { PATH_USD, startTempoNode, type TempoNode } from '../support/tempo-node.js'
import { accounts, transferCall } from '../support/tempo-tx.js'

// Issue 11 item 2: the id is an HMAC over the challenge; without per-issuance randomness two
// 402s for one route in the same millisecond were the same challenge.
const BURST = 500

let node: TempoNode
let stack: Stack
beforeAll(async () => {
  node = await startTempoNode()
  stack = await startStack({
    storeUrl: SHARED_REDIS_URL,
    routes: [{ match: 'GET /v1/cheap', price: '0.50' }],
    tempo: {
      rpcUrl: node.rpcUrl('gateway'),
      chainId: 42431,
      currency: PATH_USD,
      recipient: accounts.recipient.address,
      modes: ['push'],
      timeout: '1s',
    },
  })
})
afterAll(async () => {
  await stack?.close()
  await node?.close()
})

/** `count` parallel 402s for one route over keep-alive sockets: the tempo challenge of each. */
async function spray(count: number): Promise<Challenge[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  try {
    const responses = await Promise.all(
      Array.from({ length: count }, () => request(`${stack.gw.url}/v1/cheap`, { agent })),
    )
    expect(responses.every((r) => r.status === 402)).toBe(true)
    return responses.map((r) => challengeFor(r, 'tempo'))
  } finally {
    agent.destroy()
  }
}

describe('challenge ids over real sockets', () => {
  it(`${BURST} parallel 402s for one route carry ${BURST} distinct ids`, async () => {
    const challenges = await spray(BURST)
    expect(new Set(challenges.map((c) => c.id)).size).toBe(BURST)
  })

  it('tempo push: an attacker holding sprayed challenges cannot find the victim’s by its memo and be served on its hash', async () => {
    const sprayed = await spray(200)
    // The victim's 402 is one of the burst; if ids collide, take a colliding one (the attacker's best case).
    const victim = sprayed.find((c, i) => sprayed.some((other, j) => j !== i && other.id === c.id)) ?? sprayed[0]!
    const memo = AttributionMemo.encode({ realm: TEST_REALM, challengeId: victim.id })
    const payer = privateKeyToAccount(generatePrivateKey())
    node.setBalance(PATH_USD, payer.address, 5_000_000n)
    const wallet = createClient({ chain: tempoModerato, transport: viemHttp(node.rpcUrl('payer')) })
    const tx = await sendTransactionSync(wallet, {
      account: payer,
      calls: [transferCall({ to: accounts.recipient.address, amount: 500_000n, memo })],
      nonceKey: 'expiring',
      feeToken: PATH_USD,
    } as never)
    expect(tx.status).toBe('success')

    // The attacker watches the chain, reads the memo and presents the hash with every challenge it holds for that memo
    // (with none, with some other one of its own).
    const attackerHeld = sprayed.filter(
      (c) => c !== victim && AttributionMemo.encode({ realm: TEST_REALM, challengeId: c.id }) === memo,
    )
    const before = stack.upstream.requests.length
    for (const held of attackerHeld.length > 0 ? attackerHeld : [sprayed.find((c) => c !== victim)!]) {
      const stolen = await request(`${stack.gw.url}/v1/cheap`, {
        headers: { authorization: authorizationFor(held, { type: 'hash', hash: tx.transactionHash }) },
      })
      expect(stolen.status).toBe(402)
      expect(problemOf(stolen).type).toBe('https://paymentauth.org/problems/verification-failed')
    }
    expect(attackerHeld).toEqual([])
    expect(stack.upstream.requests.length).toBe(before)

    const paid = await request(`${stack.gw.url}/v1/cheap`, {
      headers: {
        authorization: authorizationFor(
          victim,
          { type: 'hash', hash: tx.transactionHash },
          `did:pkh:eip155:42431:${payer.address}`,
        ),
      },
    })
    expect(paid.status, paid.body).toBe(200)
    expect(stack.upstream.requests.length).toBe(before + 1)
  })

  it('a challenge issued by the previous release (no nonce in opaque) is still paid and served', async () => {
    const fresh = challengeFor(await request(`${stack.gw.url}/v1/cheap`), 'tempo')
    expect(decodeJson(fresh.opaque!)).toMatchObject({ route: 'GET /v1/cheap' })
    // what the previous release issued: the same fields, opaque {route} only, id over those
    const { id: _id, ...fields } = { ...fresh, opaque: encodeJson({ route: 'GET /v1/cheap' }) }
    const old: Challenge = { id: computeId(TEST_SECRET, fields), ...fields }
    const payer = privateKeyToAccount(generatePrivateKey())
    node.setBalance(PATH_USD, payer.address, 5_000_000n)
    const wallet = createClient({ chain: tempoModerato, transport: viemHttp(node.rpcUrl('payer')) })
    const memo = AttributionMemo.encode({ realm: TEST_REALM, challengeId: old.id })
    const tx = await sendTransactionSync(wallet, {
      account: payer,
      calls: [transferCall({ to: accounts.recipient.address, amount: 500_000n, memo })],
      nonceKey: 'expiring',
      feeToken: PATH_USD,
    } as never)
    const paid = await request(`${stack.gw.url}/v1/cheap`, {
      headers: {
        authorization: authorizationFor(
          old,
          { type: 'hash', hash: tx.transactionHash },
          `did:pkh:eip155:42431:${payer.address}`,
        ),
      },
    })
    expect(paid.status, paid.body).toBe(200)
    const replay = await request(`${stack.gw.url}/v1/cheap`, {
      headers: { authorization: authorizationFor(old, { type: 'hash', hash: tx.transactionHash }) },
    })
    expect(replay.status).toBe(402)
  })
})
