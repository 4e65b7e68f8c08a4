import { createHash } from 'node:crypto'
import Stripe from 'stripe'
import { formatBaseUnits, toBaseUnits } from '../../config/amount.js'
import type { DecimalAmount, RouteConfig, StripeMethodConfig } from '../../config/types.js'
import {
  BackendUnavailable,
  type ChargeRequest,
  type PaymentMethod,
  PaymentRefused,
  type Quote,
  type SettleInput,
  type Settlement,
} from '../../core/method.js'
import { currencyDecimals, MAXIMUM_MINOR_UNITS, minimumCharge, minorUnitStep } from './minimum-charge.js'

/** GA typings (stripe@23) know no SPT parameter; this names the one preview field we send. */
type SptPaymentIntentCreateParams = Stripe.PaymentIntentCreateParams & { shared_payment_granted_token: string }

// Stripe caps metadata values at 500 characters.
const METADATA_VALUE_MAX = 500
// Real SPT ids are short and alphanumeric; the bound keeps the idempotency key under Stripe's 255.
const SPT_PATTERN = /^spt_[A-Za-z0-9_]{1,180}$/
const DETAIL_MAX = 300

/**
 * The `stripe` payment method, intent `charge` (draft-stripe-charge-00): prices routes in the
 * gateway currency and settles a credential's Shared Payment Token with one confirmed
 * PaymentIntent.
 */
export function createStripeMethod(config: StripeMethodConfig, gatewayCurrency: string): PaymentMethod {
  const currency = gatewayCurrency.toLowerCase()
  const decimals = currencyDecimals(currency)
  const stripe = createClient(config)

  function quote(amount: DecimalAmount, route: RouteConfig): Quote {
    // A PaymentIntent pays one account; the split recipients would go unpaid.
    if (route.splits?.length) return { ok: false, reason: 'Stripe cannot pay splits to other recipients' }
    const units = toBaseUnits(amount, decimals)
    const step = minorUnitStep(currency)
    if (units === undefined || units % step !== 0n)
      return {
        ok: false,
        reason: `Stripe charges ${granularity(currency, decimals, step)}: ${amount.text} ${currency}`,
      }
    const minimum = minimumCharge(currency)
    if (minimum !== undefined && units < minimum)
      return { ok: false, reason: `below Stripe's minimum charge of ${formatBaseUnits(minimum, decimals)} ${currency}` }
    if (units <= 0n) return { ok: false, reason: `Stripe cannot charge ${amount.text} ${currency}` }
    if (units > MAXIMUM_MINOR_UNITS)
      return {
        ok: false,
        reason: `above Stripe's maximum charge of ${formatBaseUnits(MAXIMUM_MINOR_UNITS, decimals)} ${currency}`,
      }
    const request: ChargeRequest = {
      amount: units.toString(),
      currency,
      methodDetails: { networkId: config.networkId, paymentMethodTypes: [...config.paymentMethodTypes] },
    }
    if (route.description !== undefined) request.description = route.description
    return { ok: true, request }
  }

  async function settle({ challengeId, realm, request, payload, settling }: SettleInput): Promise<Settlement> {
    const { spt, externalId } = readPayload(payload, request)
    const amount = Number(request.amount)
    // The request came from quote(); anything else is a gateway bug, not the payer's problem.
    if (!/^[1-9][0-9]*$/.test(request.amount) || !Number.isSafeInteger(amount))
      throw new Error(`stripe: not a Stripe amount: ${request.amount}`)

    const params: SptPaymentIntentCreateParams = {
      amount,
      currency: request.currency,
      confirm: true,
      // `never` keeps redirect-based methods out, so no return_url is needed.
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      shared_payment_granted_token: spt,
      metadata: {
        mpp_challenge_id: challengeId.slice(0, METADATA_VALUE_MAX),
        mpp_realm: realm.slice(0, METADATA_VALUE_MAX),
        mpp_intent: 'charge',
      },
    }
    const redact = (text: string) => redactSecrets(text, [spt, config.secretKey])
    // The same credential gives the same key, so a retry or a re-drive is Stripe's replay, never a
    // second charge. The SPT enters only as a digest: the key is kept in the settlement record.
    const idempotencyKey = `mpp_${challengeId}_${createHash('sha256').update(spt).digest('base64url').slice(0, 32)}`
    await settling({ idempotencyKey })

    let intent: Stripe.Response<Stripe.PaymentIntent>
    try {
      // The preview version goes on the call: the SDK would otherwise send its GA version,
      // which does not know SPTs.
      intent = await stripe.paymentIntents.create(params, { apiVersion: config.apiVersion, idempotencyKey })
    } catch (error) {
      throw classifyError(error, config.timeoutMs, redact)
    }

    if (intent.status === 'succeeded') {
      return {
        reference: intent.id,
        receipt: externalId !== undefined ? { externalId } : undefined,
        // A replay means an earlier attempt already charged; whether to serve it is the ledger's call.
        replayed: intent.lastResponse.headers['idempotent-replayed'] === 'true',
      }
    }
    if (intent.status === 'requires_action') {
      const action = intent.next_action?.type ?? 'unknown'
      throw new PaymentRefused(
        'payment-action-required',
        `Stripe PaymentIntent ${intent.id} requires an action by the payer (${redact(action)}); pay with a payment method that needs none.`,
      )
    }
    throw new PaymentRefused('verification-failed', `Stripe PaymentIntent ${intent.id} is ${intent.status}.`)
  }

  /**
   * Readiness: whether Stripe can be reached, with the cheapest call the key can surely make (it
   * creates PaymentIntents, so it may list them). No connection, a timeout, a 5xx or rate limiting
   * fail it. A refused key does not: that is a configuration error no other replica would fix,
   * and taking every replica out of service would also stop free routes and other methods (each
   * Stripe payment answers 503 and logs why).
   */
  async function ping(): Promise<void> {
    try {
      await stripe.paymentIntents.list({ limit: 1 }, { apiVersion: config.apiVersion })
    } catch (error) {
      if (
        error instanceof Stripe.errors.StripeAuthenticationError ||
        error instanceof Stripe.errors.StripePermissionError
      )
        return
      const classified = classifyError(error, config.timeoutMs, (text) => redactSecrets(text, [config.secretKey]))
      if (!(classified instanceof PaymentRefused)) throw classified
    }
  }

  // one PaymentIntent call, and a margin for the store writes around it
  return { name: 'stripe', quote, settle, settleTimeoutMs: config.timeoutMs + 2_000, ping }
}

/** The SDK client for `config.apiBase`, with no retries of its own. */
export function createClient(config: StripeMethodConfig): Stripe {
  const base = new URL(config.apiBase)
  if (base.protocol !== 'https:' && base.protocol !== 'http:')
    throw new Error(`stripe.apiBase must be an http(s) URL: ${config.apiBase}`)
  // The SDK takes host/port/protocol only, so a path prefix could not be honoured.
  if (base.pathname !== '/' || base.search !== '')
    throw new Error(`stripe.apiBase must not have a path or query: ${config.apiBase}`)
  const protocol = base.protocol === 'https:' ? 'https' : 'http'
  return new Stripe(config.secretKey, {
    host: base.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: base.port || (protocol === 'https' ? 443 : 80),
    protocol,
    // Retries belong to the payer (with the same credential → same idempotency key), not to a
    // request that is holding the payer's connection open.
    maxNetworkRetries: 0,
    telemetry: false,
    timeout: config.timeoutMs,
  })
}

function granularity(currency: string, decimals: number, step: bigint): string {
  if (step !== 1n) return `multiples of ${formatBaseUnits(step, decimals)} ${currency}`
  return decimals === 2
    ? 'whole cents'
    : decimals === 0
      ? `whole units of ${currency}`
      : `whole minor units of ${currency}`
}

function readPayload(payload: unknown, request: ChargeRequest): { spt: string; externalId?: string } {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new PaymentRefused(
      'invalid-payload',
      'The stripe payload must be an object with an "spt" (a Shared Payment Token id, spt_…).',
    )
  }
  const { spt, externalId } = payload as Record<string, unknown>
  if (typeof spt !== 'string' || !SPT_PATTERN.test(spt)) {
    throw new PaymentRefused(
      'invalid-payload',
      'The stripe payload needs "spt": a Shared Payment Token id (spt_ followed by letters and digits).',
    )
  }
  if (externalId !== undefined && typeof externalId !== 'string')
    throw new PaymentRefused('invalid-payload', 'The payload\'s "externalId" must be a string.')
  if (request.externalId !== undefined && externalId !== request.externalId) {
    throw new PaymentRefused('invalid-payload', 'The payload\'s "externalId" must echo the challenge\'s externalId.')
  }
  return externalId === undefined ? { spt } : { spt, externalId }
}

/**
 * Maps a failed Stripe call to the payer's problem (402) or the backend's (503). It goes by error
 * class, HTTP status, type and code, never by message text, because Stripe documents no SPT
 * error codes and its messages change. The raw error is not attached as a cause: it carries the
 * request (SPT included) and would end up in logs.
 */
export function classifyError(error: unknown, timeoutMs: number, redact: (text: string) => string): Error {
  const E = Stripe.errors
  if (!(error instanceof E.StripeError)) return error instanceof Error ? error : new Error(String(error))
  const status = error.statusCode
  const message = error.message ? redact(error.message) : ''

  if (error instanceof E.StripeConnectionError) {
    const timedOut =
      typeof error.detail === 'object' &&
      error.detail !== null &&
      'code' in error.detail &&
      error.detail.code === 'ETIMEDOUT'
    return new BackendUnavailable(
      'stripe',
      timedOut ? `Stripe did not answer within ${timeoutMs} ms.` : 'Could not reach Stripe.',
    )
  }
  // The gateway's own key is wrong or lacks a permission: the operator's problem, not the payer's.
  if (
    error instanceof E.StripeAuthenticationError ||
    error instanceof E.StripePermissionError ||
    status === 401 ||
    status === 403
  ) {
    return new BackendUnavailable('stripe', "Stripe rejected the gateway's API key.")
  }
  if (error instanceof E.StripeRateLimitError || status === 429)
    return new BackendUnavailable('stripe', 'Stripe is rate-limiting the gateway.')
  // Another attempt with this very credential is still running at Stripe; its result will replay.
  if (status === 409 || error.code === 'idempotency_key_in_use')
    return new BackendUnavailable('stripe', 'Stripe is still processing an earlier attempt with this credential.')
  if (error instanceof E.StripeCardError || status === 402) {
    const codes = [error.code, error.decline_code]
      .filter((c): c is string => typeof c === 'string' && c !== '')
      .map(redact)
    const intent = error.payment_intent?.id ? ` (PaymentIntent ${error.payment_intent.id})` : ''
    return new PaymentRefused(
      'verification-failed',
      clip(
        `Stripe declined the payment${codes.length ? ` [${codes.join(', ')}]` : ''}${intent}: ${message || 'no reason given'}`,
      ),
    )
  }
  if (error instanceof E.StripeIdempotencyError || error.rawType === 'idempotency_error') {
    return new PaymentRefused(
      'verification-failed',
      clip(`Stripe refused the payment (idempotency_error): ${message || 'no reason given'}`),
    )
  }
  // 400/404: used, revoked, expired or unknown SPT, over its limit, wrong currency, ...
  if (error instanceof E.StripeInvalidRequestError || status === 400 || status === 404) {
    return new PaymentRefused(
      'verification-failed',
      clip(`Stripe refused the payment: ${message || `HTTP ${status ?? 400}`}`),
    )
  }
  return new BackendUnavailable(
    'stripe',
    status === undefined ? 'Stripe answered with an error.' : `Stripe answered HTTP ${status}.`,
  )
}

/** Masks SPTs, API keys and credentials that Stripe's messages may echo. */
export function redactSecrets(text: string, exact: readonly string[] = []): string {
  let out = text
    .replace(/spt_[A-Za-z0-9_]+/g, 'spt_***')
    .replace(/\b(sk|rk|pk)_(test|live)_[A-Za-z0-9_]+/g, '$1_$2_***')
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9+/=._~-]+/gi, '$1 ***')
  // whatever the patterns missed, in case a secret has an unusual shape
  for (const secret of exact) if (secret) out = out.split(secret).join('***')
  return out
}

function clip(text: string): string {
  return text.length <= DETAIL_MAX ? text : `${text.slice(0, DETAIL_MAX - 1)}…`
}
