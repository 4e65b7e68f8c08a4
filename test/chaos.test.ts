import { describe, expect, it } from 'vitest'
import type { Attempt, CredentialRun } from '../chaos/clients.js'
import { PRICE_UNITS, REALM, RECIPIENT } from '../chaos/cluster.js'
import type { ChaosCredential, Kind } from '../chaos/credentials.js'
import { FAULT_CYCLE } from '../chaos/faults.js'
import { parseOptions } from '../chaos/options.js'
import { type Evidence, reconcile } from '../chaos/reconcile.js'
import { runChaos } from '../chaos/run.js'
import * as AttributionMemo from '../src/methods/tempo/attribution-memo.js'
import { serialize as serializeReceipt } from '../src/protocol/receipt.js'
import type { FakePaymentIntent } from '../src/sandbox/fake-stripe.js'
import { buildRpcReceipt, PATH_USD, transferLogs } from '../src/sandbox/tempo-node.js'
import { accounts } from './support/tempo-tx.js'

// The short chaos run (`npm run chaos -- --short --no-write`): 300 credentials through 3 replicas of the
// built CLI while Redis stalls and is wiped, Stripe and Tempo time out, fail and lose answers, a replica
// is killed with -9 and clients walk away. Every must-be-zero count of the reconciliation must be 0.
describe('chaos run (short)', () => {
  it('never forwards unpaid, never settles twice, never keeps a payment unserved, never burns a credential', async () => {
    const result = await runChaos(parseOptions(['--short', '--no-write', '--seed', '1']), () => {})
    const counts = Object.fromEntries(result.reconciliation.gates.map((g) => [g.name, g.count]))
    expect(counts, result.summary).toEqual({
      'unpaid forwarded': 0,
      'settled twice': 0,
      'paid but never served after retries': 0,
      'burned without payment': 0,
      'used credential served again (replay)': 0,
    })
    // the run really ran: all 300 credentials were presented, and every fault of the cycle was injected
    expect(result.reconciliation.credentials).toBe(300)
    const injected = result.reconciliation.perFault.filter((f) => f.fault.injected).map((f) => f.fault.name)
    expect(new Set(injected), result.summary).toEqual(new Set(FAULT_CYCLE))
  }, 150_000)
})

// The reconciliation on hand-made evidence: the paths today's main never takes (a store-reset refusal)
// and one case per must-be-zero count, so a zero from the run above means what it says.
describe('chaos reconciliation', () => {
  const RESET = 'This challenge was issued before the payment store was reset.'
  const credential = (id: string, kind: Kind, challengeId: string, replaces?: string): ChaosCredential => ({
    id,
    kind,
    challengeId,
    expiresAt: 600_000,
    authorization: `Payment ${id}`,
    handle: id,
    ...(replaces ? { replaces } : {}),
  })
  const answer = (credentialId: string, at: number, status: Attempt['status'], problem?: string, detail?: string) =>
    ({
      credentialId,
      at,
      ms: 10,
      replica: 0,
      status,
      role: 'present',
      ...(problem ? { problemType: `https://paymentauth.org/problems/${problem}` } : {}),
      ...(detail ? { detail } : {}),
    }) satisfies Attempt
  const run = (c: ChaosCredential, attempts: Attempt[], final: CredentialRun['final'], replacedBy?: string) => ({
    credential: c,
    attempts,
    final,
    last: attempts.at(-1)!,
    ...(replacedBy ? { replacedBy } : {}),
  })
  const intent = (id: string, challengeId: string) =>
    ({
      id,
      status: 'succeeded',
      created: 1,
      metadata: { mpp_challenge_id: challengeId },
    }) as unknown as FakePaymentIntent
  const receipt = (reference: string) =>
    serializeReceipt({ status: 'success', method: 'stripe', timestamp: '2026-12-01T00:00:00Z', reference })
  const onChain = (hash: `0x${string}`, challengeId: string) => ({
    at: 1500,
    receipt: buildRpcReceipt({
      transactionHash: hash,
      from: accounts.payer.address,
      logs: transferLogs({
        token: PATH_USD,
        from: accounts.payer.address,
        to: RECIPIENT,
        amount: PRICE_UNITS,
        memo: AttributionMemo.encode({ realm: REALM, challengeId }),
      }),
    }),
  })
  const evidence = (parts: Partial<Evidence>): Evidence => ({
    runs: [],
    replays: [],
    hits: [],
    paymentIntents: [],
    included: [],
    ledger: [],
    wipes: [],
    faults: [],
    unfinishedLogLines: 0,
    isStoreReset: (a) => a.status === 402 && /reset/.test(a.detail ?? '') && a.at > 1000,
    ...parts,
  })
  const gates = (e: Evidence) => Object.fromEntries(reconcile(e).gates.map((g) => [g.name, g.count]))

  it('a store-reset refusal paid again with the fresh challenge is documented, not burned', () => {
    const first = credential('c0', 'stripe', 'ch-old')
    const again = credential('c0r', 'stripe', 'ch-new', 'c0')
    const result = reconcile(
      evidence({
        wipes: [1000],
        runs: [
          run(first, [answer('c0', 2000, 402, 'invalid-challenge', RESET)], 'refused', 'c0r'),
          run(again, [answer('c0r', 2100, 200)], 'served'),
        ],
        paymentIntents: [intent('pi_1', 'ch-new')],
        hits: [{ at: 2105, path: '/v1/paid', credentialId: 'c0r', receipt: receipt('pi_1') }],
      }),
    )
    expect(result.gates.map((g) => g.count)).toEqual([0, 0, 0, 0, 0])
    expect(result.documented[0]).toMatchObject({ name: 'refused after a store reset, paid again', count: 1 })
    expect(result).toMatchObject({ credentials: 1, replacements: 1, servedInTheEnd: 1, paid: 1 })
  })

  it("a 2xx the ledger says was delivered in full, as the client's own abort fired, is documented; not so without it", () => {
    const tx = `0x${'cd'.repeat(32)}` as const
    const pull = credential('p', 'pull', 'ch-p')
    const attempts = [answer('p', 20, 'aborted'), answer('p', 30, 402, 'invalid-challenge', 'already been used')]
    const delivered = { challengeId: 'ch-p', state: 'served', outcome: 'served', bytesSent: '42', bytesExpected: '42' }
    const base = { runs: [run(pull, attempts, 'refused')], included: [onChain(tx, 'ch-p')] }
    const result = reconcile(evidence({ ...base, ledger: [delivered] }))
    expect(result.gates.map((g) => g.count)).toEqual([0, 0, 0, 0, 0])
    expect(result.documented.find((d) => d.name === 'delivered in full as the client walked away')?.count).toBe(1)
    const cut = { ...delivered, bytesSent: '10' }
    expect(gates(evidence({ ...base, ledger: [cut] }))['paid but never served after retries']).toBe(1)
  })

  it('counts each must-be-zero case once', () => {
    const tx = `0x${'ab'.repeat(32)}` as const
    const counts = gates(
      evidence({
        runs: [
          run(credential('s', 'stripe', 'ch-s'), [answer('s', 10, 200)], 'served'),
          run(
            credential('p', 'pull', 'ch-p'),
            [answer('p', 20, 'aborted'), answer('p', 30, 402, 'invalid-challenge')],
            'refused',
          ),
          run(credential('b', 'stripe', 'ch-b'), [answer('b', 40, 402, 'verification-failed')], 'refused'),
        ],
        // two succeeded PaymentIntents for one challenge; the pull landed on chain but was refused
        paymentIntents: [intent('pi_a', 'ch-s'), intent('pi_b', 'ch-s')],
        included: [onChain(tx, 'ch-p')],
        // one hit with a receipt, one with none
        hits: [
          { at: 11, path: '/v1/paid', credentialId: 's', receipt: receipt('pi_a') },
          { at: 12, path: '/v1/paid', credentialId: 'b', receipt: undefined },
        ],
        replays: [{ ...answer('s', 50, 200), role: 'replay' }],
      }),
    )
    expect(counts).toEqual({
      'unpaid forwarded': 1,
      'settled twice': 1,
      'paid but never served after retries': 1,
      'burned without payment': 1,
      'used credential served again (replay)': 1,
    })
  })
})
