import { privateKeyToAccount } from 'viem/accounts'
import { type SandboxEndpoints, SANDBOX_PAYER_KEY, SANDBOX_RECIPIENT, sandboxEndpoints } from './config.js'
import { type FakeStripe, startFakeStripe } from './fake-stripe.js'
import { PATH_USD, startTempoNode, type TempoNode } from './tempo-node.js'

/** 100.00 pathUSD (6 decimals) for the sandbox payer */
const PAYER_FUNDS = 100_000_000n

export interface Sandbox {
  readonly endpoints: SandboxEndpoints
  readonly stripe: FakeStripe
  readonly node: TempoNode
  readonly payer: string
  close(): Promise<void>
}

/** Starts the local Stripe and Tempo stand-ins on 127.0.0.1 and funds the sandbox payer. */
export async function startSandbox(ports: { stripe: number; tempo: number }): Promise<Sandbox> {
  const stripe = await startFakeStripe({ port: ports.stripe }).catch((error: Error) => {
    throw new Error(
      `sandbox: the Stripe stand-in cannot listen on 127.0.0.1:${ports.stripe} (${error.message}); set MPP_SANDBOX_STRIPE_PORT`,
    )
  })
  const node = await startTempoNode({ port: ports.tempo }).catch(async (error: Error) => {
    await stripe.close()
    throw new Error(
      `sandbox: the Tempo stand-in cannot listen on 127.0.0.1:${ports.tempo} (${error.message}); set MPP_SANDBOX_TEMPO_PORT`,
    )
  })
  const payer = privateKeyToAccount(SANDBOX_PAYER_KEY).address
  node.setBalance(PATH_USD, payer, PAYER_FUNDS)
  node.setBalance(PATH_USD, SANDBOX_RECIPIENT, 0n)
  return {
    endpoints: sandboxEndpoints(ports),
    stripe,
    node,
    payer,
    close: async () => {
      await Promise.all([stripe.close(), node.close()])
    },
  }
}
