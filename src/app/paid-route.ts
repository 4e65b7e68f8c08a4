import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RateBudget } from '../config/types.js'
import type { Offer, RouteOffers } from '../methods/offers.js'
import { BackendUnavailable, PaymentRefused, type Settlement } from '../methods/types.js'
import * as BodyDigest from '../protocol/body-digest.js'
import type { Challenge } from '../protocol/challenge.js'
import { type Credential, MalformedCredential, extract, parse as parseCredential } from '../protocol/credential.js'
import { rank } from '../protocol/accept-payment.js'
import { type ProblemType, gatewayProblem, paymentProblem } from '../protocol/problem.js'
import { serialize as serializeReceipt } from '../protocol/receipt.js'
import { requestFraming } from '../proxy/framing.js'
import { type LedgerEntry, StoreUnavailable } from '../store/types.js'
import { issueChallenges, serializeAll } from './challenges.js'
import type { GatewayContext } from './context.js'
import { UNSUPPORTED_FRAMING, forwardToUpstream } from './forward.js'
import { paidButNotServed, paidResult } from './paid-outcome.js'
import { type BodyRefusal, hasBody, readBody } from '../http/request-body.js'
import { sendProblem } from '../http/respond.js'
import type { RequestRecord } from './request-record.js'
import { verifyChallenge } from './verify-credential.js'

/** Claims outlive their challenge a little, so clock skew between replicas cannot reopen one. */
const CLAIM_GRACE_MS = 60_000
const RETRY_AFTER_SECONDS = 2

/**
 * A request to a priced route: 402 with challenges, or verify → claim → settle → forward → receipt.
 * Nothing reaches the upstream unless a payment settled and its single use was claimed.
 */
export async function handlePaidRoute(
  ctx: GatewayContext,
  routeOffers: RouteOffers,
  pathAndQuery: string,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  record: RequestRecord,
): Promise<void> {
  const { config, metrics } = ctx
  const routeName = routeOffers.route.match
  if (routeOffers.offers.length === 0) {
    // The sample config before any method is set up: fail closed, and say what to do.
    record.payment = 'unavailable'
    return sendProblem(
      outgoing,
      gatewayProblem(
        503,
        'no-payment-method',
        'Service Unavailable',
        'No payment method is enabled for this route yet: the gateway log says what to set (or run it with --sandbox).',
      ),
      { close: hasBody(incoming) },
    )
  }
  const authorization = extract(incoming.headersDistinct.authorization)

  // refused before any challenge: a body we could not re-frame must never be paid for
  if (requestFraming(incoming.headers) === 'unsupported')
    return sendProblem(outgoing, UNSUPPORTED_FRAMING, { close: true })
  let body: Buffer | undefined
  if (hasBody(incoming)) {
    const { maxBodyBytes } = routeOffers.route
    const read = await readBody(incoming, {
      limit: maxBodyBytes,
      timeoutMs: config.limits.bodyTimeoutMs,
      budget: ctx.bodyBudget,
    })
    if (!read.ok) return refuseBody(ctx, outgoing, read.reason, maxBodyBytes)
    // the bytes stay reserved while this request may still use them
    outgoing.once('close', read.release)
    body = read.body
  }
  const digest = body && body.length > 0 ? BodyDigest.compute(body) : undefined

  const unavailable = (backend: string, detail: string) => {
    record.payment = 'unavailable'
    metrics.backendError(backend)
    sendProblem(outgoing, gatewayProblem(503, `${backend}-unavailable`, 'Service Unavailable', detail), {
      retryAfterSeconds: RETRY_AFTER_SECONDS,
    })
  }
  // Fresh challenges go with every payment failure, ordered by the client's Accept-Payment. Offers
  // are ranked before they are issued, so none costs a backend call the client has ruled out; a
  // payment that goes through never needs them.
  const wantedOffers = () =>
    rank(
      routeOffers.offers.map((offer) => ({ method: offer.method.name, intent: offer.intent, offer })),
      headerText(incoming.headers['accept-payment']),
    ).map((ranked) => ranked.offer)
  const challengesFor = async (wanted: readonly Offer[]) => {
    const { challenges, failures } = await issueChallenges(
      routeOffers,
      { realm: config.realm, secretKey: ctx.secretKeys[0]!, ttlMs: config.challengeTtlMs, now: ctx.now(), digest },
      wanted,
    )
    for (const { method, error } of failures) {
      const backend = error instanceof BackendUnavailable ? error.backend : method
      metrics.backendError(backend)
      ctx.logger.error('could not issue a challenge; left out of this 402', {
        route: routeName,
        method,
        backend,
        error,
      })
    }
    return { challenges, failures }
  }
  const rateLimited = (budget: RateBudget, what: string) => {
    record.payment = 'rate-limited'
    metrics.rateLimited(routeName)
    sendProblem(
      outgoing,
      gatewayProblem(
        429,
        'rate-limited',
        'Too Many Requests',
        `This client asked for more than ${budget.limit} ${what} in ${budget.windowMs / 1000} s. Retry later.`,
      ),
      {
        retryAfterSeconds: Math.ceil(budget.windowMs / 1000),
      },
    )
  }
  const refuse = async (type: ProblemType, detail: string) => {
    const wanted = wantedOffers()
    if (
      config.challengeRateLimit &&
      (await overBudget(ctx, `challenges:${record.clientIp}`, config.challengeRateLimit))
    )
      return rateLimited(config.challengeRateLimit, 'payment challenges')
    // Each such 402 creates a Stripe PaymentIntent: a stricter budget keeps a client from running up Stripe calls.
    if (
      wanted.some((o) => o.method.issueCreates) &&
      (await overBudget(ctx, `deposit-intents:${record.clientIp}`, config.depositIntentRateLimit))
    ) {
      return rateLimited(config.depositIntentRateLimit, 'payment challenges that create a Stripe PaymentIntent')
    }
    const { challenges, failures } = await challengesFor(wanted)
    if (challenges.length === 0 && failures.length > 0) {
      const first = failures[0]!.error
      const backend = first instanceof BackendUnavailable ? first.backend : failures[0]!.method
      record.payment = 'unavailable'
      // counted as backend errors where they happened
      return sendProblem(
        outgoing,
        gatewayProblem(
          503,
          `${backend}-unavailable`,
          'Service Unavailable',
          `${first instanceof BackendUnavailable ? `${first.detail} ` : ''}No payment challenge could be issued; retry shortly.`,
        ),
        {
          retryAfterSeconds: RETRY_AFTER_SECONDS,
        },
      )
    }
    record.payment ??= type === 'payment-required' ? 'challenged' : 'refused'
    if (type !== 'payment-required') record.problem = type
    metrics.challengesIssued(
      routeName,
      challenges.map((c) => c.method),
    )
    sendProblem(outgoing, paymentProblem(type, detail, challenges[0]?.id), { challenges: serializeAll(challenges) })
  }

  if (authorization.kind === 'multiple')
    return refuse('bad-request', 'Send exactly one Payment credential; this request carries several.')
  if (authorization.kind === 'none') {
    return refuse(
      'payment-required',
      routeOffers.route.description ? `Payment is required: ${routeOffers.route.description}.` : 'Payment is required.',
    )
  }

  let credential: Credential
  try {
    credential = parseCredential(authorization.token)
  } catch (error) {
    if (error instanceof MalformedCredential)
      return refuse('malformed-credential', `The credential is malformed: ${error.message}`)
    throw error
  }

  const verdict = verifyChallenge(credential.challenge, {
    routeOffers,
    realm: config.realm,
    secretKeys: ctx.secretKeys,
    now: ctx.now(),
    digestMatches: (echoed) =>
      echoed === undefined ? digest === undefined : body !== undefined && BodyDigest.matches(echoed, body),
  })
  // The echoed method is the client's word: only a method this route offers becomes a label.
  const methodName =
    routeOffers.offers.find((o) => o.method.name === credential.challenge.method)?.method.name ?? 'unknown'
  record.paymentMethod = methodName
  record.challengeId = credential.challenge.id.slice(0, 64)
  if (!verdict.ok) {
    record.payment = 'refused'
    metrics.verification(methodName, verdict.problem)
    return refuse(verdict.problem, verdict.detail)
  }

  const { offer } = verdict
  const challenge: Challenge = credential.challenge
  const claimKey = `challenge:${challenge.id}`

  try {
    if (!(await ctx.store.claim(claimKey, verdict.expiresAtMs + CLAIM_GRACE_MS))) {
      record.payment = 'refused'
      metrics.replayRejected(offer.method.name)
      metrics.verification(offer.method.name, 'invalid-challenge')
      return refuse('invalid-challenge', 'This challenge has already been used.')
    }
  } catch (error) {
    ctx.logger.error('replay store unavailable; refusing paid request', { route: routeName, error })
    return unavailable('store', 'The payment ledger is unreachable; nothing was charged. Retry shortly.')
  }

  let settlement: Settlement
  // Keys the method claimed (transaction hashes): released with the challenge if settling fails.
  const methodClaims: string[] = []
  try {
    settlement = await offer.method.settle({
      challengeId: challenge.id,
      realm: config.realm,
      route: routeOffers.route,
      request: verdict.request,
      bound: verdict.bound,
      payload: credential.payload,
      source: credential.source,
      expiresAtMs: verdict.expiresAtMs,
      claimOnce: async (key, expiresAtMs) => {
        const storeKey = `${offer.method.name}:${key}`
        const claimed = await ctx.store.claim(storeKey, expiresAtMs)
        if (claimed) methodClaims.push(storeKey)
        return claimed
      },
      release: async (key) => {
        const storeKey = `${offer.method.name}:${key}`
        const at = methodClaims.indexOf(storeKey)
        if (at === -1) return
        methodClaims.splice(at, 1)
        await ctx.store.release(storeKey)
      },
    })
  } catch (error) {
    // No money moved: give the claims back so the payer can try again with the same credential.
    for (const key of [claimKey, ...methodClaims]) {
      await ctx.store
        .release(key)
        .catch((releaseError) =>
          ctx.logger.error('could not release a claim', { key, challengeId: challenge.id, error: releaseError }),
        )
    }
    if (error instanceof PaymentRefused) {
      ctx.logger.info('payment refused', {
        route: routeName,
        method: offer.method.name,
        challengeId: challenge.id,
        problem: error.problem,
        detail: error.detail,
      })
      record.payment = 'refused'
      metrics.verification(offer.method.name, error.problem)
      return refuse(error.problem, error.detail)
    }
    if (error instanceof BackendUnavailable) {
      ctx.logger.error('payment backend unavailable', {
        method: offer.method.name,
        backend: error.backend,
        detail: error.detail,
      })
      return unavailable(
        error.backend,
        `${error.detail} The request was not forwarded; retry the same credential shortly (it is never charged twice).`,
      )
    }
    if (error instanceof StoreUnavailable) {
      ctx.logger.error('replay store unavailable during settlement', { error })
      return unavailable('store', 'The payment ledger is unreachable; nothing was charged. Retry shortly.')
    }
    ctx.logger.error('unexpected settlement error', { method: offer.method.name, error })
    record.payment = 'unavailable'
    return sendProblem(
      outgoing,
      gatewayProblem(
        500,
        'internal-payment-error',
        'Internal Payment Error',
        'The gateway failed while settling the payment.',
      ),
    )
  }
  if (settlement.replayed) {
    // The backend had already settled this challenge in an attempt whose claim was released
    // (an outage mid-call); the claim we hold proves it was never served, so it is served now.
    ctx.logger.warn('payment backend replayed an earlier settlement for an unserved challenge', {
      challengeId: challenge.id,
      reference: settlement.reference,
    })
  }

  record.payment = 'paid'
  record.reference = settlement.reference
  metrics.verification(offer.method.name, 'success')
  metrics.settled(routeName, offer.method.name, verdict.request.currency, verdict.request.amount)
  const settledAt = new Date(ctx.now()).toISOString()
  const receipt = serializeReceipt({
    status: 'success',
    method: offer.method.name,
    timestamp: settledAt,
    reference: settlement.reference,
    ...settlement.receipt,
  })
  const forwarded = await forwardToUpstream(ctx, incoming, outgoing, record, {
    pathAndQuery,
    body,
    authorization: authorization.others,
    receipt,
    trackDelivery: true,
  })
  // The ledger entry waits for the end of the response, so a body cut short is recorded as such.
  const result = paidResult(forwarded, forwarded.ok ? await forwarded.delivery : undefined)
  const entry: LedgerEntry = {
    challengeId: challenge.id,
    route: routeName,
    method: offer.method.name,
    amount: verdict.request.amount,
    currency: verdict.request.currency,
    reference: settlement.reference,
    settledAt,
    ...result,
  }
  if (paidButNotServed(result.outcome)) {
    metrics.paidButUpstreamFailed(routeName)
    ctx.logger.error('payment settled but the upstream did not serve it; refund or serve manually', {
      route: routeName,
      challengeId: challenge.id,
      reference: settlement.reference,
      ...result,
      ...(forwarded.ok ? {} : { failure: forwarded.failure }),
    })
  }
  try {
    await ctx.store.record(entry)
  } catch (error) {
    // The claim still holds (the challenge cannot be paid twice); this line is the operator's record.
    metrics.backendError('store')
    ctx.logger.error('settled payment could not be written to the ledger', { ...entry, error })
  }
}

/** Answers a body that was not read; the rest of it is never read, so the connection closes. */
function refuseBody(ctx: GatewayContext, outgoing: ServerResponse, reason: BodyRefusal, maxBodyBytes: number): void {
  if (reason === 'aborted') return void outgoing.destroy()
  if (reason === 'too-large') {
    return sendProblem(
      outgoing,
      gatewayProblem(
        413,
        'body-too-large',
        'Content Too Large',
        `The request body is larger than this route's limit of ${maxBodyBytes} bytes.`,
      ),
      { close: true },
    )
  }
  if (reason === 'timeout') {
    ctx.metrics.limitRefused('bodyTimeout')
    const seconds = ctx.config.limits.bodyTimeoutMs / 1000
    return sendProblem(
      outgoing,
      gatewayProblem(408, 'body-timeout', 'Request Timeout', `The request body did not arrive within ${seconds} s.`),
      { close: true },
    )
  }
  ctx.metrics.limitRefused('bufferedBytes')
  sendProblem(
    outgoing,
    gatewayProblem(
      503,
      'body-buffer-full',
      'Service Unavailable',
      'The gateway is holding as many request bodies as it may; retry shortly.',
    ),
    { close: true, retryAfterSeconds: RETRY_AFTER_SECONDS },
  )
}

/**
 * Whether this client has used up its budget of challenges (draft-httpauth-payment §Security:
 * issuing challenges costs the server; a per-client limit keeps that bounded). Counted in the
 * store, so every replica shares it. Fails open: a 402 forwards nothing, so an unreachable store
 * must not turn away payers.
 */
async function overBudget(ctx: GatewayContext, key: string, budget: RateBudget): Promise<boolean> {
  try {
    return (await ctx.store.countHit(key, budget.windowMs)) > budget.limit
  } catch (error) {
    ctx.metrics.backendError('store')
    ctx.logger.warn('challenge rate limit not enforced: the store is unreachable', { error })
    return false
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value
}
