import type { CredentialRequest } from '../servers/backends.js'
import { forkServer } from './processes.js'

export interface BackendCalls {
  /** server-side time summed over calls */
  readonly ms: number
  readonly calls: number
  /** epoch ms of the first and last call (0: none) */
  readonly firstAt: number
  readonly lastAt: number
}

export interface BackendBusy {
  readonly stripe: BackendCalls
  readonly tempo: BackendCalls
}

export interface Backends {
  readonly stripeUrl: string
  readonly tempoRpcUrl: string
  readonly recipient: string
  readonly pathUsd: string
  /** writes `count` fresh credentials to `file` */
  credentials(request: CredentialRequest): Promise<void>
  /** the stand-ins' own time since the last call */
  busy(): Promise<BackendBusy>
}

/** The fake Stripe and the Tempo stand-in in their own process (bench/servers/backends.ts). */
export async function startBackends(script: string, execArgv: string[]): Promise<Backends> {
  const { child, hello } = await forkServer<{
    stripeUrl: string
    tempoRpcUrl: string
    recipient: string
    pathUsd: string
  }>(script, {}, execArgv)
  let nextId = 0
  const pending = new Map<number, (reply: { ok: boolean; error?: string; busy?: BackendBusy }) => void>()
  child.on('message', (message: { id?: number; ok: boolean; error?: string; busy?: BackendBusy }) => {
    if (message.id !== undefined) pending.get(message.id)?.(message)
  })
  const ask = (cmd: string, request?: CredentialRequest) =>
    new Promise<{ ok: boolean; error?: string; busy?: BackendBusy }>((resolve) => {
      const id = nextId++
      pending.set(id, resolve)
      child.send({ id, cmd, request })
    }).then((reply) => {
      if (!reply.ok) throw new Error(`backends: ${reply.error}`)
      return reply
    })
  return {
    ...hello,
    credentials: async (request) => {
      await ask('credentials', request)
    },
    busy: async () => (await ask('busy')).busy!,
  }
}
