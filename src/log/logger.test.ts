import { describe, expect, it } from 'vitest'
import { createLogger } from './logger.js'

describe('logger', () => {
  it('writes one JSON line per call, with flat fields as given', () => {
    const lines: string[] = []
    const logger = createLogger({ write: (line) => lines.push(line) })
    logger.info('request', { method: 'GET', status: 200, latencyMs: 1.5, aborted: undefined })
    expect(lines).toHaveLength(1)
    expect(lines[0]!.endsWith('\n')).toBe(true)
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'info',
      msg: 'request',
      method: 'GET',
      status: 200,
      latencyMs: 1.5,
    })
    expect(JSON.parse(lines[0]!)).not.toHaveProperty('aborted')
  })

  it('writes errors as their name and message and bigints as decimals, also nested', () => {
    const lines: string[] = []
    const logger = createLogger({ write: (line) => lines.push(line) })
    logger.error('failed', { error: new TypeError('boom'), amount: 10n ** 20n, detail: { cause: new Error('inner') } })
    expect(JSON.parse(lines[0]!)).toMatchObject({
      error: 'TypeError: boom',
      amount: '100000000000000000000',
      detail: { cause: 'Error: inner' },
    })
  })

  it('drops lines below the level', () => {
    const lines: string[] = []
    const logger = createLogger({ level: 'warn', write: (line) => lines.push(line) })
    logger.info('quiet')
    logger.warn('loud')
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['loud'])
  })
})
