import type { GatewayConfig } from '../config/types.js'
import type { Logger } from '../log/logger.js'
import { BackendUnavailable } from './method.js'
import { rank } from '../protocol/accept-payment.js'
import { type ProblemType, gatewayProblem, paymentProblem } from '../protocol/problem.js'
import type { RateCounter } from '../store/ports.js'
import type { PaymentInput, RespondDecision } from './decision.js'
import { issueChallenges, serializeAll } from './issue.js'
import type { OutcomeDraft } from './outcome.js'
import { exceededBudget } from './rate-limit.js'
import { problemResponse, respondWith, unavailableResponse } from './respond.js'

export interface RefusalDeps {
  readonly config: Pick<GatewayConfig, 'realm' | 'challengeTtlMs' | 'challengeRateLimit' | 'depositIntentRateLimit'>
  readonly rateCounter: RateCounter
  readonly logger: Logger
  readonly now: () => number
  /** challenges are signed with the first */
  readonly secretKeys: readonly string[]
}

/**
 * The answer to a request without a usable payment: a 402 (400 for several credentials) with
 * fresh challenges, ordered by the client's Accept-Payment. Offers are ranked before they are
 * issued, so none costs a backend call the client has ruled out. Every such answer counts against
 * the client's budgets, refusals too (429 once used up); an offer whose issuer fails is left out,
 * and when none is left the answer is 503.
 */
export async function refuseWithChallenges(
  deps: RefusalDeps,
  input: PaymentInput,
  draft: OutcomeDraft,
  refusal: { readonly type: ProblemType; readonly detail: string; readonly digest: string | undefined },
  /** a check after the budget, before any challenge is issued (the route's validation): its answer, or go on */
  gate?: () => Promise<RespondDecision | undefined>,
): Promise<RespondDecision> {
  const { config, logger } = deps
  const { route } = input
  const routeName = route.route.match
  const wanted = rank(
    route.offers.map((offer) => ({ method: offer.method.name, intent: offer.intent, offer })),
    headerText(input.headers['accept-payment']),
  ).map((ranked) => ranked.offer)

  const exceeded = await exceededBudget(
    deps.rateCounter,
    logger,
    (count) => draft.count(count),
    { clientIp: input.clientIp, createsBackendObject: wanted.some((o) => o.method.issuer?.createsBackendObject) },
    { challenges: config.challengeRateLimit, backendObjects: config.depositIntentRateLimit },
  )
  if (exceeded) {
    const { budget, what } = exceeded
    draft.set({ payment: 'rate-limited' })
    draft.count({ metric: 'rateLimited', args: [routeName] })
    const seconds = budget.windowMs / 1000
    return respondWith(
      draft,
      problemResponse(
        gatewayProblem(
          429,
          'rate-limited',
          'Too Many Requests',
          `This client asked for more than ${budget.limit} ${what} in ${seconds} s. Retry later.`,
        ),
        { retryAfterSeconds: Math.ceil(seconds) },
      ),
    )
  }

  const gated = await gate?.()
  if (gated) return gated

  const { challenges, failures } = await issueChallenges(
    route,
    {
      realm: config.realm,
      secretKey: deps.secretKeys[0]!,
      ttlMs: config.challengeTtlMs,
      now: deps.now(),
      digest: refusal.digest,
    },
    wanted,
  )
  for (const { method, error } of failures) {
    const backend = error instanceof BackendUnavailable ? error.backend : method
    draft.count({ metric: 'backendError', args: [backend] })
    logger.error('could not issue a challenge; left out of this 402', { route: routeName, method, backend, error })
  }
  if (challenges.length === 0 && failures.length > 0) {
    const first = failures[0]!.error
    const backend = first instanceof BackendUnavailable ? first.backend : failures[0]!.method
    // counted as backend errors where they happened
    return unavailableResponse(
      draft,
      `${backend}-unavailable`,
      `${first instanceof BackendUnavailable ? `${first.detail} ` : ''}No payment challenge could be issued; retry shortly.`,
    )
  }

  const { type, detail } = refusal
  draft.settle(type === 'payment-required' ? 'challenged' : 'refused')
  if (type !== 'payment-required') draft.set({ problem: type })
  draft.count({ metric: 'challengesIssued', args: [routeName, challenges.map((c) => c.method)] })
  return respondWith(
    draft,
    problemResponse(paymentProblem(type, detail, challenges[0]?.id), { challenges: serializeAll(challenges) }),
  )
}

function headerText(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' || value === undefined ? value : value.join(', ')
}
