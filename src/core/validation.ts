import type { ProblemResponse } from './decision.js'
import type { PaymentLog } from './outcome.js'

/**
 * What the upstream's validation path said of a request (issue 13 §2), before it is charged: a 2xx
 * lets the payment go ahead, a 4xx goes back to the client as the upstream wrote it (nothing is
 * charged), and anything else (a 5xx, no answer in time, no connection) is a 503.
 */
export type Validation =
  | { readonly kind: 'valid' }
  | {
      readonly kind: 'invalid'
      readonly status: number
      readonly headers: ReadonlyArray<readonly [string, string]>
      readonly body: string
    }
  | { readonly kind: 'unavailable'; readonly detail: string }

/** Asks the upstream's validation path about this request; the adapter provides it. */
export type Validator = () => Promise<Validation>

/** The validation path's answer (or why none came) as a `Validation`. */
export function validationOf(
  answer:
    | {
        readonly ok: true
        readonly status: number
        readonly headers: ReadonlyArray<readonly [string, string]>
        readonly body: string
      }
    | { readonly ok: false; readonly message: string },
): Validation {
  if (!answer.ok) return { kind: 'unavailable', detail: `The validation request failed: ${answer.message}.` }
  if (answer.status >= 200 && answer.status <= 299) return { kind: 'valid' }
  if (answer.status >= 400 && answer.status <= 499)
    return { kind: 'invalid', status: answer.status, headers: answer.headers, body: answer.body }
  return { kind: 'unavailable', detail: `The validation request answered ${answer.status}.` }
}

/** The log fields of a request its validation refused. */
export const VALIDATION_REFUSED: PaymentLog = { payment: 'refused', problem: 'validation-refused' }

/** The upstream's 4xx, as the answer: its status, headers and body, as it wrote them. */
export function invalidResponse(validation: Extract<Validation, { kind: 'invalid' }>): ProblemResponse {
  const headers: Record<string, string | string[]> = {}
  for (const [name, value] of validation.headers) {
    const key = name.toLowerCase()
    const had = headers[key]
    headers[key] = had === undefined ? value : [...[had].flat(), value]
  }
  // the answer to one paid request: never from a shared cache
  headers['cache-control'] = 'no-store'
  return { status: validation.status, headers, body: validation.body }
}
