import { z } from 'zod'

/** `methods.voucher`: the shared secret vouchers are signed with, and who issues them. */
export const voucherConfigSchema = z.strictObject({
  // The message never shows the value: it is a secret.
  secret: z.string().min(32, 'must be at least 32 characters (openssl rand -base64 32)'),
  issuer: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, 'must be lower-case letters, digits and "-"')
    .default('voucher-desk'),
  /** fraction digits of a voucher amount in the gateway currency: 2 makes 0.50 usd "50" */
  decimals: z.number().int().min(0).max(6).default(2),
})

export type VoucherConfig = z.output<typeof voucherConfigSchema>
