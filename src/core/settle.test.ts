import { describe, expect, it } from 'vitest'
import type { RouteConfig } from '../config/types.js'
import { silentLogger } from '../log/logger.js'
import { BackendUnavailable, PaymentRefused, type PaymentMethod, type SettleInput } from './method.js'
import { encodeJson } from '../protocol/challenge.js'
import { createMemoryStore } from '../store/memory.js'
import { StoreUnavailable } from '../store/types.js'
import { claimChallenge } from './claims.js'
import { settlePayment } from './settle.js'

const request = { amount: '500', currency: 'usd' }
const challenge = {
  id: 'ch_1',
  realm: 'r',
  method: 'tempo',
  intent: 'charge',
  request: encodeJson(request),
  opaque: encodeJson({ route: 'GET /a' }),
}

function settleWith(settle: (input: SettleInput) => Promise<{ reference: string }>) {
  const store = createMemoryStore()
  const method = { name: 'tempo', quote: () => ({ ok: false, reason: '' }), settle } as PaymentMethod
  const expiresAtMs = Date.now() + 60_000
  const run = async () => {
    await claimChallenge(store, challenge.id, expiresAtMs)
    return settlePayment(store, silentLogger, {
      offer: { method, intent: 'charge', request, encodedRequest: encodeJson(request) },
      route: { match: 'GET /a' } as RouteConfig,
      realm: 'r',
      credential: { challenge, payload: { type: 'hash', hash: '0x1' }, source: 'did:pkh:eip155:1:0xabc' },
      request,
      bound: { paymentIntent: 'pi_1' },
      expiresAtMs,
    })
  }
  return { store, run }
}

describe('settlePayment', () => {
  it('hands the method the verified request, its payload and bound fields, and keeps its claims on success', async () => {
    let seen: SettleInput | undefined
    const { store, run } = settleWith(async (input) => {
      seen = input
      await input.claimOnce('tx:0x1', Date.now() + 60_000)
      return { reference: '0x1' }
    })
    expect(await run()).toStrictEqual({ ok: true, settlement: { reference: '0x1' } })
    expect(seen).toMatchObject({
      challengeId: 'ch_1',
      realm: 'r',
      request,
      bound: { paymentIntent: 'pi_1' },
      payload: { type: 'hash', hash: '0x1' },
      source: 'did:pkh:eip155:1:0xabc',
    })
    expect(store.claimCount()).toBe(2)
  })

  it.each([
    [
      'a refusal',
      new PaymentRefused('verification-failed', 'bad signature'),
      { kind: 'refused', problem: 'verification-failed', detail: 'bad signature' },
    ],
    [
      'a backend outage',
      new BackendUnavailable('tempo-rpc', 'The RPC timed out.'),
      { kind: 'backend', backend: 'tempo-rpc', detail: 'The RPC timed out.' },
    ],
    ['a store outage', new StoreUnavailable('down'), { kind: 'store' }],
    ['anything else', new RangeError('bug'), { kind: 'unexpected' }],
  ])('maps %s to its failure and gives back every claim', async (_, error, failure) => {
    const { store, run } = settleWith(async (input) => {
      await input.claimOnce('tx:0x1', Date.now() + 60_000)
      throw error
    })
    expect(await run()).toStrictEqual({ ok: false, failure })
    expect(store.claimCount()).toBe(0)
  })
})
