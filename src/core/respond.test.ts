import { describe, expect, it } from 'vitest'
import { gatewayProblem } from '../protocol/problem.js'
import { problemResponse } from './respond.js'

describe('problemResponse', () => {
  const problem = gatewayProblem(503, 'store-unavailable', 'Service Unavailable', 'Retry shortly.')

  it('is problem JSON that no cache keeps', () => {
    expect(problemResponse(problem)).toStrictEqual({
      status: 503,
      headers: { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' },
      body: JSON.stringify(problem),
    })
  })

  it('keeps each challenge on its own WWW-Authenticate line, and says when to retry', () => {
    const response = problemResponse(problem, {
      challenges: ['Payment id="a"', 'Payment id="b"'],
      retryAfterSeconds: 2,
    })
    expect(response.headers['WWW-Authenticate']).toEqual(['Payment id="a"', 'Payment id="b"'])
    expect(response.headers['Retry-After']).toBe('2')
    expect(problemResponse(problem, { challenges: [] }).headers).not.toHaveProperty('WWW-Authenticate')
  })
})
