import type { z } from 'zod'
import type { AdminConfig } from './admin.js'
import type {
  RouteAccess,
  RouteGrant,
  RoutePrice,
  RouteSplit,
  RouteValidation,
  UpstreamFailurePolicy,
} from './route-schema.js'
import type { StripeConfig } from '../methods/stripe/config.js'
import type {
  StripeDepositShape as DepositShape,
  TempoConfig,
  TempoFeePayer,
  TempoMode as TempoModeName,
  TempoStripeDeposit,
} from '../methods/tempo/config.js'
import type {
  corsSchema,
  discoverySchema,
  LogLevel,
  limitsSchema,
  RateBudget as SchemaRateBudget,
  RouteMode as SchemaRouteMode,
  shutdownSchema,
  storeSchema,
} from './schema.js'
/** The validated, typed gateway configuration. `load.ts` turns YAML into this; nothing else reads YAML. */

/** An exact decimal amount: value = units / 10^scale (no floats anywhere). */
export interface DecimalAmount {
  /** the string as written in the config, e.g. "0.50" */
  readonly text: string
  readonly units: bigint
  readonly scale: number
}

export type { RouteAccess, RouteGrant, RoutePrice, RouteSplit, RouteValidation, UpstreamFailurePolicy }

export interface RouteConfig {
  /** position in `routes`, for error messages and metrics */
  readonly index: number
  /** the `match` string as written, e.g. "GET /v1/reports/:id"; also the route's identity in challenges */
  readonly match: string
  /** upper-case HTTP method, or "*" for any */
  readonly method: string
  /** Hono path pattern, e.g. "/v1/reports/:id" or "/public/*" */
  readonly path: string
  readonly price: RoutePrice
  readonly description?: string
  /** methods named explicitly in the YAML; undefined = every configured method that can charge the price */
  readonly methods?: readonly string[]
  /** largest request body buffered for a body digest; 413 beyond it */
  readonly maxBodyBytes: number
  /** shadow: forward as if free, but count and log the 402 this route would have sent */
  readonly mode: RouteMode
  /** parts of the price paid to other recipients (Tempo only, draft-tempo-charge §Split Payments) */
  readonly splits?: readonly RouteSplit[]
  /** true: the path matches only in its own case; absent: case-insensitively (a trailing "/" never matters) */
  readonly caseSensitive?: true
  /** after a paid request's upstream failed: the same credential is forwarded again within the window (loaded: always set) */
  readonly onUpstreamFailure?: UpstreamFailurePolicy
  /** the upstream path asked whether a request is acceptable, before it is charged (and, maybe, before its 402) */
  readonly validate?: RouteValidation
  /** a priced route's scoped follow-up keys: a 2xx mints one for the id its response names */
  readonly grant?: RouteGrant
  /** a route that takes a key of `grant` for the id in its `:param` (a free route otherwise) */
  readonly access?: RouteAccess
}

/** `0x` + 40 hex digits, in EIP-55 checksum form once loaded */
export type Address = `0x${string}`
/** `0x`-prefixed hex */
export type Hex = `0x${string}`

/**
 * `methods.stripe`, as its schema (src/methods/stripe/config.ts) parses it: secretKey, networkId,
 * paymentMethodTypes, apiVersion, apiBase (e.g. "https://api.stripe.com"), timeoutMs, cryptoApiVersion
 * (the preview version of the crypto calls) and account (a connected account's `Stripe-Account`).
 */
export type StripeMethodConfig = Readonly<StripeConfig>

export type TempoMode = TempoModeName

/** The gateway pays the network fees of pull transactions, within these bounds per transaction. */
export type TempoFeePayerConfig = Readonly<TempoFeePayer>

/** How payments reach a Stripe balance through Stripe crypto deposit addresses (research/stripe.md §4). */
export type StripeDepositShape = DepositShape

export type StripeDepositConfig = Readonly<TempoStripeDeposit>

/**
 * `methods.tempo`, as its schema (src/methods/tempo/config.ts) parses it: rpcUrl, chainId, currency,
 * recipient or stripeDeposit, modes, feePayer, timeoutMs and txClaimTtlMs.
 */
export type TempoMethodConfig = Readonly<TempoConfig>

/** Each configured method's section, by name, in the order written; a plugin's section is what its schema parses. */
export interface MethodsConfig {
  readonly stripe?: StripeMethodConfig
  readonly tempo?: TempoMethodConfig
  readonly [plugin: string]: unknown
}

export type RouteMode = SchemaRouteMode

export type { AdminConfig }

/** `cors:`: origins (["*"] allows any), maxAgeSeconds of a preflight answer, credentials (allowlist only) */
export type CorsConfig = Readonly<z.output<typeof corsSchema>>

/** Bounds on what one gateway process holds for clients (`limits:`); all but bodyTimeoutMs apply at listen time. */
export type LimitsConfig = Readonly<z.output<typeof limitsSchema>>

/** A budget of `limit` events per client IP per `windowMs` (fixed window). */
export type RateBudget = SchemaRateBudget

export interface GatewayConfig {
  /** absolute path of the file this came from */
  readonly file: string
  /** how messages name the file: the path as the operator gave it */
  readonly displayName: string
  readonly listen: { readonly host: string; readonly port: number }
  readonly realm: string
  /** undefined: none configured; the server generates a random one and warns */
  readonly secretKey?: string
  readonly previousSecretKeys: readonly string[]
  readonly challengeTtlMs: number
  /** `recovery.window`: a settled, unserved payment is served to its credential this long after its first claim */
  readonly recoveryWindowMs: number
  /** lower-case ISO 4217 code of route prices */
  readonly currency: string
  readonly upstream: {
    readonly url: URL
    readonly timeoutMs: number
    /** lower-cased request header names stripped before forwarding, beyond the built-in rerouting ones */
    readonly stripRequestHeaders: readonly string[]
    /** `upstream.url: "example"`: the bundled example API of the sample config */
    readonly example?: boolean
  }
  readonly store: Readonly<z.output<typeof storeSchema>>
  readonly methods: MethodsConfig
  readonly routes: readonly RouteConfig[]
  /** the log level */
  readonly logLevel: LogLevel
  /** peers (CIDRs) whose X-Forwarded-For is believed when finding the client IP */
  readonly trustedProxies: readonly string[]
  /** undefined: no CORS headers at all */
  readonly cors?: CorsConfig
  /** per-client-IP budget of 402 challenges; undefined: unlimited */
  readonly challengeRateLimit?: RateBudget
  /** per-client-IP budget of 402s that create a Stripe deposit PaymentIntent (per-payment deposit routes) */
  readonly depositIntentRateLimit: RateBudget
  /** paths of the generated discovery documents; undefined: not served */
  readonly discovery: Readonly<z.output<typeof discoverySchema>>
  /** graceMs: readiness reports 503 before new connections are refused; timeoutMs: in-flight requests may take to finish */
  readonly shutdown: Readonly<z.output<typeof shutdownSchema>>
  readonly limits: LimitsConfig
  /** reload when the config file changes (SIGHUP always reloads) */
  readonly watch: boolean
  /** `watch: { poll }`: also compare the file's stat this often (ms) */
  readonly watchPollMs?: number
  /** gateway processes sharing the listening port (node:cluster); more than 1 requires store.url */
  readonly workers: number
  /** undefined: no admin listener (`admin: false`) */
  readonly admin?: AdminConfig
}
