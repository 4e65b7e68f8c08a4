import { type Problem, gatewayProblem } from '../protocol/problem.js'
import type { ProblemResponse, RespondDecision } from './decision.js'
import type { OutcomeDraft } from './outcome.js'

export const RETRY_AFTER_SECONDS = 2

/** A request path that canonicalizePath refused: the same answer from the sidecar and the middleware. */
export function badPathProblem(reason: string): Problem {
  return gatewayProblem(400, 'bad-path', 'Bad Request', `The request path is not acceptable: ${reason}.`)
}

/** A body over the route's `maxBodyBytes`, from either door. */
export function bodyTooLargeProblem(maxBodyBytes: number): Problem {
  return gatewayProblem(
    413,
    'body-too-large',
    'Content Too Large',
    `The request body is larger than this route's limit of ${maxBodyBytes} bytes.`,
  )
}

/**
 * The response for a problem. Challenges go on separate header lines: folded into one
 * comma-joined line, generic clients misread them.
 */
export function problemResponse(
  problem: Problem,
  options: { readonly challenges?: readonly string[]; readonly retryAfterSeconds?: number } = {},
): ProblemResponse {
  const headers: Record<string, string | readonly string[]> = {
    'Content-Type': 'application/problem+json',
    'Cache-Control': 'no-store',
  }
  if (options.challenges && options.challenges.length > 0) headers['WWW-Authenticate'] = [...options.challenges]
  if (options.retryAfterSeconds !== undefined) headers['Retry-After'] = String(options.retryAfterSeconds)
  return { status: problem.status, headers, body: JSON.stringify(problem) }
}

/** 503 with a gateway problem (`urn:mpp-gateway:problem:<slug>`); the payment is logged as unavailable. */
export function unavailableResponse(
  draft: OutcomeDraft,
  slug: string,
  detail: string,
  retryAfterSeconds: number | undefined = RETRY_AFTER_SECONDS,
): RespondDecision {
  draft.set({ payment: 'unavailable' })
  return respondWith(
    draft,
    problemResponse(gatewayProblem(503, slug, 'Service Unavailable', detail), {
      ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
    }),
  )
}

/** The core's answer, with the outcome as decided so far. */
export function respondWith(draft: OutcomeDraft, response: ProblemResponse): RespondDecision {
  return { kind: 'respond', ...response, outcome: draft.done() }
}
