import { Mppx, tempo as mppxTempo } from 'mppx/client'
import { createClient, http } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import { tempoModerato } from 'viem/chains'
import type { TempoNode } from './tempo-node.js'

/**
 * The reference client (mppx) paying with a local account through the Tempo stand-in: the
 * independent implementation on the other side of the wire.
 */
export function tempoPayer(node: TempoNode, account: PrivateKeyAccount, mode?: 'pull' | 'push') {
  const client = Mppx.create({
    polyfill: false,
    methods: [
      mppxTempo.charge({
        account,
        ...(mode ? { mode } : {}),
        getClient: () => createClient({ chain: tempoModerato, transport: http(node.rpcUrl('client')) }),
      }),
    ],
  })
  return {
    fetch: client.fetch,
    /** The Authorization header value mppx would send for this 402 (without sending it). */
    async authorizationFor(url: string, init?: RequestInit): Promise<string> {
      const challenge = await fetch(url, init)
      if (challenge.status !== 402) throw new Error(`expected a 402 from ${url}, got ${challenge.status}`)
      const credential = await client.createCredential(challenge)
      return credential.startsWith('Payment ') ? credential : `Payment ${credential}`
    },
  }
}
