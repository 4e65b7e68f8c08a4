import { z } from 'zod'
import { durationMs, httpBase, nonEmptyString } from '../../config/fields.js'
import { kind, show } from '../../config/issues.js'

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

/** Each item is checked here rather than by z.string(), so a bad item does not hide the others' problems. */
const paymentMethodTypes = z
  .array(z.unknown())
  .default(['card'])
  .transform((items, ctx): string[] => {
    if (items.length === 0) ctx.addIssue({ code: 'custom', message: 'must not be empty (the default is ["card"])' })
    items.forEach((item, i) => {
      const problem =
        typeof item !== 'string'
          ? `must be a string (got ${kind(item)})`
          : item === ''
            ? 'is empty'
            : items.indexOf(item) !== i
              ? `${show(item)} is listed twice`
              : undefined
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [i] })
    })
    return items as string[]
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
