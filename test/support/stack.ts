import { type FakeStripe, startFakeStripe } from './fake-stripe.js'
import { type TestGateway, type TestGatewayOptions, startTestGateway } from './gateway.js'
import { type TestUpstream, startUpstream } from './upstream.js'

/** A gateway in front of a recording upstream, charging through the local fake Stripe. */
export interface Stack {
  stripe: FakeStripe
  upstream: TestUpstream
  gw: TestGateway
  /** a fresh test SPT; `pm_card_visa` pays, `pm_card_chargeDeclined` declines, ... */
  spt(paymentMethod?: string): Promise<string>
  close(): Promise<void>
}

export interface StackOptions extends Omit<TestGatewayOptions, 'upstreamUrl' | 'stripeUrl'> {
  /** a base path on the upstream URL, e.g. "/base" */
  upstreamBasePath?: string
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const stripe = await startFakeStripe()
  const upstream = await startUpstream()
  const { upstreamBasePath = '', ...gatewayOptions } = options
  const gw = await startTestGateway({
    upstreamUrl: upstream.url + upstreamBasePath,
    stripeUrl: stripe.url,
    ...gatewayOptions,
  })
  return {
    stripe,
    upstream,
    gw,
    spt: (paymentMethod = 'pm_card_visa') => stripe.issueSpt({ paymentMethod, maxAmount: 10_000, currency: 'usd' }),
    async close() {
      await gw.close()
      await upstream.close()
      await stripe.close()
    },
  }
}
