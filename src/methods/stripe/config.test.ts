import { describe, expect, it } from 'vitest'
import { checkSchema } from '../../config/issues.js'
import { stripeConfigSchema } from './config.js'

/** the keys of methods.stripe, as docs/configuration.md lists them */
const STRIPE_KEYS = [
  'secretKey',
  'networkId',
  'paymentMethodTypes',
  'apiVersion',
  'apiBase',
  'timeout',
  'cryptoApiVersion',
  'account',
]

const section = (entries: Record<string, unknown>) => new Map(Object.entries(entries))

describe('the methods.stripe schema', () => {
  it('knows exactly the documented keys', () => {
    expect(Object.keys(stripeConfigSchema.in.shape)).toEqual([...STRIPE_KEYS])
  })

  it('fills the defaults and turns timeout into timeoutMs', () => {
    expect(checkSchema(stripeConfigSchema, section({ secretKey: 'rk_test_1', networkId: 'net_1' }), 'm')).toEqual({
      ok: true,
      data: {
        secretKey: 'rk_test_1',
        networkId: 'net_1',
        paymentMethodTypes: ['card'],
        apiVersion: '2026-07-29.preview',
        apiBase: 'https://api.stripe.com',
        cryptoApiVersion: '2026-07-29.preview',
        timeoutMs: 10_000,
      },
    })
  })

  it('reports every problem of the section, values unshown where they are secret', () => {
    const checked = checkSchema(
      stripeConfigSchema,
      section({
        secretKey: 'sk_live_has space',
        networkID: 'n',
        paymentMethodTypes: ['card', '', 'card', null],
        apiBase: 'https://user:pw@stripe.example',
        timeout: '0ms',
      }),
      'methods.stripe',
    )
    expect(checked.ok || checked.issues.map((issue) => `${issue.path}: ${issue.problem}`)).toEqual([
      'methods.stripe.networkID: unknown key (did you mean "networkId"?)',
      'methods.stripe.secretKey: contains whitespace',
      'methods.stripe.networkId: is required',
      'methods.stripe.paymentMethodTypes[1]: is empty',
      'methods.stripe.paymentMethodTypes[2]: "card" is listed twice',
      'methods.stripe.paymentMethodTypes[3]: must be a string (got nothing)',
      'methods.stripe.apiBase: must not contain credentials (user:password@)',
      'methods.stripe.timeout: must be at least 1ms',
    ])
  })
})
