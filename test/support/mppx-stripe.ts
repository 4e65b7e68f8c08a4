import { Mppx, stripe as mppxStripe } from 'mppx/client'
import type { FakeStripe } from './fake-stripe.js'

/** An SPT the client minted for one challenge, and what the challenge asked for. */
export interface MintedSpt {
  readonly spt: string
  readonly amount: string
  readonly currency: string
  readonly networkId: string | undefined
}

/**
 * The reference client paying by Stripe, as an agent would: for each challenge mppx asks for a
 * Shared Payment Token, here a fresh test SPT (pm_card_visa) from the fake Stripe capped at the
 * challenge's amount.
 */
export function mppxStripeClient(stripe: FakeStripe, onMint: (minted: MintedSpt) => void = () => {}) {
  return Mppx.create({
    polyfill: false,
    methods: [
      mppxStripe.charge({
        paymentMethod: 'pm_card_visa',
        createToken: async ({ amount, currency, networkId }) => {
          const spt = await stripe.issueSpt({ paymentMethod: 'pm_card_visa', maxAmount: Number(amount), currency })
          onMint({ spt, amount, currency, networkId })
          return spt
        },
      }),
    ],
  })
}
