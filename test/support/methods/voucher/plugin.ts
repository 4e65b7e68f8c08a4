import { createHmac, timingSafeEqual } from 'node:crypto'
import { formatMajorUnits, toBaseUnits } from '../../../../src/config/amount.js'
import { defineMethod } from '../../../../src/methods/plugin.js'
import { type ChargeRequest, type PaymentMethod, PaymentRefused } from '../../../../src/core/method.js'
import { type VoucherConfig, voucherConfigSchema } from './config.js'

/**
 * A test-only third payment method: the payer presents a voucher, an HMAC of the challenge id under
 * a secret shared with the voucher desk. It exists to prove that a method is a plugin: nothing
 * outside this folder names it, and a test registers it with `[...methodPlugins, voucherPlugin]`.
 */
export const voucherPlugin = defineMethod<VoucherConfig>({
  name: 'voucher',
  configSchema: voucherConfigSchema,
  create: (config, { config: gateway }) => createVoucherMethod(config, gateway.currency),
  formatPrice: (request) => `${majorUnits(request)} ${request.currency} in vouchers`,
  describeOffer: (request) => `a voucher worth ${majorUnits(request)} ${request.currency} (voucher)`,
})

function majorUnits(request: ChargeRequest): string {
  return formatMajorUnits(BigInt(request.amount), Number(request.methodDetails?.decimals ?? 0))
}

/** What the voucher desk gives a payer for one challenge. */
export function signVoucher(secret: string, challengeId: string): string {
  return createHmac('sha256', secret).update(`voucher:${challengeId}`).digest('base64url')
}

function createVoucherMethod(config: VoucherConfig, currency: string): PaymentMethod {
  return {
    name: 'voucher',
    quote(amount) {
      const units = toBaseUnits(amount, config.decimals)
      if (units === undefined) return { ok: false, reason: `vouchers have ${config.decimals} decimals` }
      return {
        ok: true,
        request: {
          amount: units.toString(),
          currency,
          methodDetails: { issuer: config.issuer, decimals: config.decimals },
        },
      }
    },
    async settle(input) {
      const voucher = (input.payload as { voucher?: unknown } | null)?.voucher
      if (typeof voucher !== 'string') throw new PaymentRefused('invalid-payload', 'The payload has no voucher.')
      const expected = Buffer.from(signVoucher(config.secret, input.challengeId))
      const given = Buffer.from(voucher)
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        throw new PaymentRefused('verification-failed', 'The voucher is not signed by the voucher desk.')
      return { reference: `voucher_${input.challengeId.slice(0, 16)}` }
    },
  }
}
