import { z } from 'zod'
import { durationMs, httpBase, nonEmptyString } from '../../config/fields.js'
import { show } from '../../config/issues.js'

/** Checked for shape only: the key's value must never appear in a message. */
const secretKey = nonEmptyString().superRefine((key, ctx) => {
  if (key === '') return
  if (key.startsWith('pk_'))
    ctx.addIssue({
      code: 'custom',
      message: 'is a publishable key (pk_...); use a secret key (sk_...) or a restricted key (rk_...)',
    })
  else if (!key.startsWith('sk_') && !key.startsWith('rk_'))
    ctx.addIssue({ code: 'custom', message: 'must start with "sk_" or "rk_" (a Stripe secret or restricted key)' })
  else if (/\s/.test(key)) ctx.addIssue({ code: 'custom', message: 'contains whitespace' })
})

const paymentMethodTypes = z
  .array(z.string())
  .default(['card'])
  .superRefine((types, ctx) => {
    if (types.length === 0) ctx.addIssue({ code: 'custom', message: 'must not be empty (the default is ["card"])' })
    types.forEach((type, i) => {
      if (type === '') ctx.addIssue({ code: 'custom', message: 'is empty', path: [i] })
      else if (types.indexOf(type) !== i)
        ctx.addIssue({ code: 'custom', message: `${show(type)} is listed twice`, path: [i] })
    })
  })

/** `methods.stripe`: the Stripe account that charges Shared Payment Tokens. */
export const stripeConfigSchema = z
  .strictObject({
    secretKey,
    networkId: nonEmptyString(),
    paymentMethodTypes,
    apiVersion: z
      .string()
      .default('2026-07-29.preview')
      .refine((text) => text !== '', 'is empty'),
    apiBase: httpBase('https://api.stripe.com'),
    timeout: durationMs('10s', 1),
    // mppx records crypto payments with its SPT preview version; Stripe's deposit docs name older previews.
    cryptoApiVersion: z
      .string()
      .default('2026-07-29.preview')
      .superRefine((version, ctx) => {
        if (!version.endsWith('.preview'))
          ctx.addIssue({
            code: 'custom',
            message: `${show(version)} is not a preview version (crypto deposits need one, e.g. "2026-07-29.preview")`,
          })
      }),
    account: z
      .string()
      .regex(/^acct_[A-Za-z0-9]+$/, 'must be a connected account id (acct_...)')
      .optional(),
  })
  .transform(({ timeout, account, ...config }) => ({ ...config, timeoutMs: timeout, ...(account ? { account } : {}) }))

export type StripeConfig = z.output<typeof stripeConfigSchema>
