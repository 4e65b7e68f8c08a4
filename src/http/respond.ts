import type { ServerResponse } from 'node:http'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import { gatewayProblem, type Problem } from '../protocol/problem.js'

export interface ProblemResponseOptions {
  /** serialized `Payment` challenges, each written on its own WWW-Authenticate line */
  readonly challenges?: readonly string[]
  readonly retryAfterSeconds?: number
  /** close the connection after answering (used when a request body was left unread) */
  readonly close?: boolean
}

/**
 * Writes an RFC 9457 problem straight to the Node response. Challenges go on separate header
 * lines: a `Headers` object would fold them into one comma-joined line that generic clients misread.
 */
export function sendProblem(outgoing: ServerResponse, problem: Problem, options: ProblemResponseOptions = {}): void {
  const body = JSON.stringify(problem)
  outgoing.statusCode = problem.status
  outgoing.setHeader('Content-Type', 'application/problem+json')
  outgoing.setHeader('Cache-Control', 'no-store')
  outgoing.setHeader('Content-Length', Buffer.byteLength(body))
  if (options.challenges && options.challenges.length > 0)
    outgoing.setHeader('WWW-Authenticate', [...options.challenges])
  if (options.retryAfterSeconds !== undefined) outgoing.setHeader('Retry-After', String(options.retryAfterSeconds))
  if (options.close) outgoing.setHeader('Connection', 'close')
  outgoing.end(body)
}

/** `sendProblem`, in a Hono handler: the answer is written, so @hono/node-server writes nothing more. */
export function sentProblem(
  outgoing: ServerResponse,
  problem: Problem,
  options: ProblemResponseOptions = {},
): Response {
  sendProblem(outgoing, problem, options)
  return RESPONSE_ALREADY_SENT
}

const INTERNAL_ERROR = gatewayProblem(
  500,
  'internal-error',
  'Internal Server Error',
  'The gateway failed to handle the request.',
)

/** A Hono app's onError: a 500 problem, or a cut connection once the answer has begun. */
export function sentInternalError(outgoing: ServerResponse): Response {
  if (!outgoing.headersSent) return sentProblem(outgoing, INTERNAL_ERROR)
  outgoing.destroy()
  return RESPONSE_ALREADY_SENT
}

export function sendJson(outgoing: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value)
  outgoing.writeHead(status, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(body),
  })
  outgoing.end(body)
}
