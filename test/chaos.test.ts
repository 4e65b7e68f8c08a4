import { describe, expect, it } from 'vitest'
import { FAULT_CYCLE } from '../chaos/faults.js'
import { parseOptions } from '../chaos/options.js'
import { runChaos } from '../chaos/run.js'

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
    expect(new Set(result.reconciliation.perFault.map((f) => f.fault.name)), result.summary).toEqual(
      new Set(FAULT_CYCLE),
    )
  }, 150_000)
})
