/** Where `serve --sandbox` runs its stand-ins, and what it points the methods at. */
export interface SandboxEndpoints {
  /** the fake Stripe's base URL, e.g. http://127.0.0.1:8412 */
  readonly stripeApiBase: string
  /** the Tempo stand-in's JSON-RPC URL */
  readonly tempoRpcUrl: string
  /** the address the sandbox's Tempo payments go to */
  readonly tempoRecipient: string
}

export const SANDBOX_STRIPE_KEY = 'sk_test_sandbox_0123456789'
export const SANDBOX_NETWORK_ID = 'profile_sandbox'
const MODERATO = 42431
const PATH_USD = '0x20c0000000000000000000000000000000000000'

type Mapping = Map<string, unknown>

/**
 * Points the configured methods at the stand-ins, in the config as read (after ${VAR} expansion,
 * before validation): the keys, ids and URLs of real backends are replaced, nothing else is.
 * A method the config does not configure stays unconfigured.
 */
export function applySandbox(root: unknown, sandbox: SandboxEndpoints): void {
  if (!(root instanceof Map)) return
  const methods = root.get('methods')
  if (!(methods instanceof Map)) return
  const stripe = methods.get('stripe')
  if (stripe instanceof Map) {
    const map = stripe as Mapping
    map.set('secretKey', SANDBOX_STRIPE_KEY)
    map.set('networkId', SANDBOX_NETWORK_ID)
    map.set('apiBase', sandbox.stripeApiBase)
    map.delete('account')
  }
  const tempo = methods.get('tempo')
  if (tempo instanceof Map) {
    const map = tempo as Mapping
    map.set('rpcUrl', sandbox.tempoRpcUrl)
    map.set('chainId', MODERATO)
    map.set('currency', PATH_USD)
    map.set('recipient', sandbox.tempoRecipient)
    // A fee payer signs with a real key for a real chain; sandbox payers pay their own fees.
    map.delete('feePayer')
    map.delete('splits')
  }
}

/**
 * Anvil's well-known dev keys (public, fund nothing real): the wallet `pay --sandbox` pays from,
 * funded by the sandbox's Tempo stand-in, and the one the sandbox is paid into.
 */
export const SANDBOX_PAYER_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
export const SANDBOX_RECIPIENT = '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc'

/** The stand-ins' ports on 127.0.0.1, the same for `serve --sandbox` and `pay --sandbox`. */
export function sandboxPorts(env: Record<string, string | undefined> = process.env): { stripe: number; tempo: number } {
  const read = (name: string, fallback: number) => {
    const text = env[name]
    if (text === undefined || text === '') return fallback
    const port = Number(text)
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new Error(`${name}: "${text}" is not a port (1-65535)`)
    return port
  }
  return { stripe: read('MPP_SANDBOX_STRIPE_PORT', 8412), tempo: read('MPP_SANDBOX_TEMPO_PORT', 8413) }
}

export function sandboxEndpoints(ports: { stripe: number; tempo: number }): SandboxEndpoints {
  return {
    stripeApiBase: `http://127.0.0.1:${ports.stripe}`,
    tempoRpcUrl: `http://127.0.0.1:${ports.tempo}`,
    tempoRecipient: SANDBOX_RECIPIENT,
  }
}
