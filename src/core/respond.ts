import type { Problem } from '../protocol/problem.js'
import type { RespondDecision } from './decision.js'
import type { OutcomeDraft } from './outcome.js'

/** An answer the core gives itself: an RFC 9457 problem, with its headers. */
export interface ProblemResponse {
  readonly status: number
  /** header name → value; a list is written one line per value (each challenge on its own `WWW-Authenticate` line) */
  readonly headers: Readonly<Record<string, string | readonly string[]>>
  /** the problem, serialized */
  readonly body: string
}

export const RETRY_AFTER_SECONDS = 2

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

/** The core's answer, with the outcome as decided so far. */
export function respondWith(draft: OutcomeDraft, response: ProblemResponse): RespondDecision {
  return { kind: 'respond', ...response, outcome: draft.done() }
}
