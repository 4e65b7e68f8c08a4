import { type Challenge, parseList } from '../../src/protocol/challenge.js'
import { serialize as serializeCredential } from '../../src/protocol/credential.js'
import { headerLines, type RawResponse } from './http.js'

/** Every Payment challenge of a 402, one per WWW-Authenticate line. */
export function challengesOf(response: RawResponse): Challenge[] {
  return headerLines(response, 'www-authenticate').flatMap((line) => parseList(line))
}

export function challengeFor(response: RawResponse, method = 'stripe'): Challenge {
  const challenge = challengesOf(response).find((c) => c.method === method)
  if (!challenge) throw new Error(`no ${method} challenge in a ${response.status} response: ${response.body}`)
  return challenge
}

/** The Authorization header value a client sends for a challenge. */
export function authorizationFor(challenge: Challenge, payload: unknown, source?: string): string {
  return `Payment ${serializeCredential({ challenge, payload, ...(source ? { source } : {}) })}`
}

export function problemOf(response: RawResponse): {
  type: string
  title: string
  status: number
  detail: string
  challengeId?: string
} {
  return JSON.parse(response.body)
}

export const problemType = (slug: string) => `https://paymentauth.org/problems/${slug}`
