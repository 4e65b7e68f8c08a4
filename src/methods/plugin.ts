import type { z } from 'zod'
import type { GatewayConfig } from '../config/types.js'
import type { Logger } from '../log/logger.js'
import type { DurableQueue } from '../store/ports.js'
import type { ChargeRequest, PaymentMethod } from '../core/method.js'

/** What methods with background work (recording payments in Stripe) need from the running gateway. */
export interface MethodServices {
  readonly store: DurableQueue
  readonly logger: Logger
  /** counts a failed backend call in the metrics */
  readonly onBackendError: (backend: string) => void
}

/** What a plugin's `create` is given besides its own config section. */
export interface MethodContext {
  /** the whole config: the realm, the currency, and the sections of the methods this one depends on */
  readonly config: GatewayConfig
  /** absent for config checks and discovery: the method only quotes, nothing runs in the background */
  readonly services?: MethodServices
}

/**
 * A payment method as a plugin (Caddy's module idea): it owns its `methods.<name>` config section,
 * builds its PaymentMethod, and says how its offers read in `check`, /llms.txt and /openapi.json.
 * Only `src/methods/index.ts` lists the plugins; nothing else names a method.
 */
export interface MethodPlugin<Config = unknown> {
  /** the wire method identifier and the key under `methods` */
  readonly name: string
  /** The zod schema of `methods.<name>`, checked by the loader (errors name `methods.<name>.<key>`). */
  readonly configSchema: z.ZodType<Config>
  /**
   * Keys whose example values (see config/placeholders.ts) switch the method off with a warning
   * instead of failing, so the sample config runs; `owner` names whose values they are ("Stripe").
   */
  readonly examplePlaceholders?: { readonly keys: readonly string[]; readonly owner: string }
  /**
   * A key whose empty value (an unset variable) switches the method off with a warning instead of
   * failing, so the sample config runs before the operator has one; `purpose` says what to set it to.
   */
  readonly emptyDisables?: { readonly key: string; readonly purpose: string }
  /**
   * Another method this one's parsed section leans on (Tempo's deposit rail pays into the account of
   * methods.stripe); the loader reports `why` at `key` when that method is absent or switched off.
   */
  readonly requires?: (config: Config) => MethodRequirement | undefined
  /** A warning to give when there is no shared store (store.url), such as records queued in memory. */
  readonly withoutStore?: (config: Config) => { readonly key: string; readonly message: string } | undefined
  /** Builds the method from its parsed config section. */
  create(config: Config, context: MethodContext): PaymentMethod
  /** The charge in major units for `check`'s route table, e.g. "0.50 usd". */
  formatPrice(request: ChargeRequest): string
  /** One offer in a sentence for /llms.txt, e.g. "0.50 usd (stripe)". */
  describeOffer(request: ChargeRequest): string
  /** the backends it calls, as counted in the backend-error metric */
  readonly backends?: readonly string[]
}

/** See MethodPlugin.requires: `key` is a path inside the method's section, e.g. "recipient.stripeDeposit". */
export interface MethodRequirement {
  readonly key: string
  readonly method: string
  readonly why: string
}

/** Declares a plugin with its config type checked against its schema. */
export function defineMethod<Config>(plugin: MethodPlugin<Config>): MethodPlugin {
  return plugin as MethodPlugin
}
