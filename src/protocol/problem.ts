/**
 * RFC 9457 problem documents with the payment problem types of draft-httpauth-payment §Error Codes
 * (plus the ones mppx clients know, e.g. `payment-action-required`).
 */
export const PROBLEM_BASE = 'https://paymentauth.org/problems/'

export type ProblemType =
  | 'payment-required'
  | 'malformed-credential'
  | 'invalid-challenge'
  | 'verification-failed'
  | 'payment-expired'
  | 'invalid-payload'
  | 'payment-insufficient'
  | 'payment-action-required'
  | 'method-unsupported'
  | 'bad-request'

const TITLES: Record<ProblemType, string> = {
  'payment-required': 'Payment Required',
  'malformed-credential': 'Malformed Credential',
  'invalid-challenge': 'Invalid Challenge',
  'verification-failed': 'Verification Failed',
  'payment-expired': 'Payment Expired',
  'invalid-payload': 'Invalid Payload',
  'payment-insufficient': 'Payment Insufficient',
  'payment-action-required': 'Payment Action Required',
  'method-unsupported': 'Method Unsupported',
  'bad-request': 'Bad Request',
}

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  challengeId?: string
}

/** A payment problem (402 unless the type says otherwise). */
export function paymentProblem(type: ProblemType, detail: string, challengeId?: string): Problem {
  const status = type === 'method-unsupported' || type === 'bad-request' ? 400 : 402
  const problem: Problem = { type: PROBLEM_BASE + type, title: TITLES[type], status, detail }
  if (challengeId !== undefined) problem.challengeId = challengeId
  return problem
}

/**
 * A gateway problem that is not about payment (404, 413, 502, 503, 504, ...). Its type is a URN of
 * ours, so clients can tell it apart from the payment types without us inventing a web address.
 */
export function gatewayProblem(status: number, slug: string, title: string, detail: string): Problem {
  return { type: `urn:mpp-gateway:problem:${slug}`, title, status, detail }
}
