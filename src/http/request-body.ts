import type { IncomingMessage } from 'node:http'
import type { BodyBudget } from './body-budget.js'

/** True when the request announces a body (RFC 9112 §6.3: Content-Length > 0 or Transfer-Encoding). */
export function hasBody(incoming: IncomingMessage): boolean {
  if (incoming.headers['transfer-encoding'] !== undefined) return true
  const length = incoming.headers['content-length']
  return length !== undefined && length !== '0'
}

export type BodyRefusal = 'too-large' | 'aborted' | 'timeout' | 'over-budget'

export type BodyResult =
  | {
      readonly ok: true
      readonly body: Buffer /** gives the body's bytes back to the budget (idempotent) */
      readonly release: () => void
    }
  | { readonly ok: false; readonly reason: BodyRefusal }

export interface ReadBodyLimits {
  /** the route's maxBodyBytes: 'too-large' beyond it */
  readonly limit: number
  /** 'timeout' when the whole body has not arrived by then */
  readonly timeoutMs: number
  /** gateway-wide bytes in memory: 'over-budget' when this body does not fit */
  readonly budget: BodyBudget
}

/**
 * Reads a request body into memory. The declared Content-Length is reserved from the budget up
 * front and every byte beyond the reservation (chunked bodies) as it arrives, so a body never holds
 * memory the budget has not granted. On refusal everything reserved is given back at once.
 */
export function readBody(incoming: IncomingMessage, limits: ReadBodyLimits): Promise<BodyResult> {
  const { limit, budget } = limits
  const header = Number(incoming.headers['content-length'] ?? 0)
  const declared = Number.isSafeInteger(header) && header > 0 ? header : 0
  if (declared > limit) return Promise.resolve({ ok: false, reason: 'too-large' })
  if (!budget.reserve(declared)) return Promise.resolve({ ok: false, reason: 'over-budget' })
  let reserved = declared
  const release = () => {
    budget.release(reserved)
    reserved = 0
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const refuse = (reason: BodyRefusal) => {
      cleanup()
      release()
      resolve({ ok: false, reason })
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) return refuse('too-large')
      if (size > reserved) {
        if (!budget.reserve(size - reserved)) return refuse('over-budget')
        reserved = size
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve({ ok: true, body: Buffer.concat(chunks, size), release })
    }
    const onAbort = () => refuse('aborted')
    const timer = setTimeout(() => refuse('timeout'), limits.timeoutMs)
    const cleanup = () => {
      clearTimeout(timer)
      incoming.off('data', onData)
      incoming.off('end', onEnd)
      incoming.off('error', onAbort)
      incoming.off('aborted', onAbort)
    }
    incoming.on('data', onData)
    incoming.on('end', onEnd)
    incoming.on('error', onAbort)
    incoming.on('aborted', onAbort)
  })
}
