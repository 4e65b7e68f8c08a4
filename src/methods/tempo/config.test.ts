import { describe, expect, it } from 'vitest'
import { checkSchema, requiredKeys } from '../../config/issues.js'
import { tempoConfigSchema } from './config.js'

const RECIPIENT = '0x742d35cc6634c0532925a3b844bc9e7595f8fe00'
const FEE_KEY = `0x${'5ec4e7'.repeat(10)}5ec4`
const section = (entries: Record<string, unknown>) => new Map(Object.entries(entries))
const problems = (entries: Record<string, unknown>) => {
  const checked = checkSchema(tempoConfigSchema, section(entries), 'methods.tempo')
  return checked.ok ? [] : checked.issues.map(({ path, problem }) => `${path}: ${problem}`)
}

describe('the methods.tempo schema', () => {
  it('needs a recipient, and only that', () => {
    expect(requiredKeys(tempoConfigSchema)).toEqual(['recipient'])
  })

  it('takes the RPC URL from the chain, and the fee token and the modes from the fee payer', () => {
    const checked = checkSchema(
      tempoConfigSchema,
      section({ recipient: RECIPIENT, chainId: 4217, feePayer: section({ privateKey: FEE_KEY }) }),
      'methods.tempo',
    )
    expect(checked.ok && checked.data).toMatchObject({
      rpcUrl: 'https://rpc.tempo.xyz',
      chainId: 4217,
      currency: '0x20C0000000000000000000000000000000000000',
      modes: ['pull'],
      feePayer: { feeToken: '0x20C0000000000000000000000000000000000000', maxGas: 2_000_000n, maxInFlight: 16 },
    })
  })

  it('passes an empty recipient: the plugin switches the method off, the loader warns', () => {
    const checked = checkSchema(tempoConfigSchema, section({ recipient: '' }), 'methods.tempo')
    expect(checked.ok && checked.data).toEqual({
      rpcUrl: 'https://rpc.moderato.tempo.xyz',
      chainId: 42431,
      currency: '0x20C0000000000000000000000000000000000000',
      modes: ['pull', 'push'],
      timeoutMs: 10_000,
      txClaimTtlMs: 30 * 86_400_000,
    })
  })

  it('reports unknown keys inside feePayer and recipient with a did-you-mean, at their place', () => {
    expect(
      problems({
        recipient: section({ stripeDeposit: 'reusable', recordRetri: '1m' }),
        feePayer: section({ privateKey: FEE_KEY, maxGass: 1 }),
        timeout: 'soon',
      }),
    ).toEqual([
      'methods.tempo.recipient.recordRetri: unknown key (did you mean "recordRetry"?)',
      'methods.tempo.feePayer.maxGass: unknown key (did you mean "maxGas"?)',
      'methods.tempo.timeout: "soon" is not a duration (use e.g. "500ms", "30s", "5m", "1h" or "1m30s")',
    ])
  })

  it('marks an unknown key as a problem of the key, not of its value', () => {
    const checked = checkSchema(
      tempoConfigSchema,
      section({ recipient: RECIPIENT, feePayer: section({ privateKey: FEE_KEY, maxFees: '1' }) }),
      'methods.tempo',
    )
    expect(checked.ok ? [] : checked.issues).toEqual([
      {
        path: 'methods.tempo.feePayer.maxFees',
        problem: 'unknown key (did you mean "maxFee"?)',
        aboutValue: false,
      },
    ])
  })
})
