import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config/load.js'
import { sandboxEndpoints, sandboxPorts } from './config.js'

const SAMPLE = `
realm: api.example.com
upstream: { url: "http://127.0.0.1:3000" }
methods:
  stripe: { secretKey: "sk_test_replace_me", networkId: "profile_replace_me", apiBase: "https://api.stripe.com", account: "acct_1" }
  tempo: { recipient: "", chainId: 4217, rpcUrl: "https://rpc.tempo.xyz" }
routes:
  - { match: "GET /a", price: "0.50" }
`

describe('the sandbox', () => {
  it('points the configured methods at the stand-ins, replacing placeholders, before validation', () => {
    const loaded = parseConfig(SAMPLE, 'gateway.config.yaml', {}, 'gateway.config.yaml', {
      sandbox: sandboxEndpoints({ stripe: 18412, tempo: 18413 }),
    })
    if (!loaded.ok) throw new Error(loaded.errors.join('\n'))
    expect(loaded.config.methods.stripe).toMatchObject({
      secretKey: 'sk_test_sandbox_0123456789',
      networkId: 'profile_sandbox',
      apiBase: 'http://127.0.0.1:18412',
    })
    expect(loaded.config.methods.stripe?.account).toBeUndefined()
    expect(loaded.config.methods.tempo).toMatchObject({
      rpcUrl: 'http://127.0.0.1:18413',
      chainId: 42431,
      recipient: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
    })
    expect(loaded.warnings).toEqual([])
  })

  it('reads its ports from the environment, refusing a bad one', () => {
    expect(sandboxPorts({})).toEqual({ stripe: 8412, tempo: 8413 })
    expect(sandboxPorts({ MPP_SANDBOX_STRIPE_PORT: '9000', MPP_SANDBOX_TEMPO_PORT: '9001' })).toEqual({
      stripe: 9000,
      tempo: 9001,
    })
    expect(() => sandboxPorts({ MPP_SANDBOX_TEMPO_PORT: 'x' })).toThrow(
      'MPP_SANDBOX_TEMPO_PORT: "x" is not a port (1-65535)',
    )
  })
})
