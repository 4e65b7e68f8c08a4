import type { IncomingMessage } from 'node:http'

/** True when the request announces a body (RFC 9112 §6.3: Content-Length > 0 or Transfer-Encoding). */
export function hasBody(incoming: IncomingMessage): boolean {
  if (incoming.headers['transfer-encoding'] !== undefined) return true
  const length = incoming.headers['content-length']
  return length !== undefined && length !== '0'
}

export type BodyResult = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly reason: 'too-large' | 'aborted' }

/** Reads a request body into memory, refusing past `limit` bytes (the caller answers 413). */
export function readBody(incoming: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(incoming.headers['content-length'] ?? 0)
  if (declared > limit) return Promise.resolve({ ok: false, reason: 'too-large' })
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        resolve({ ok: false, reason: 'too-large' })
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve({ ok: true, body: Buffer.concat(chunks, size) })
    }
    const onAbort = () => {
      cleanup()
      resolve({ ok: false, reason: 'aborted' })
    }
    const cleanup = () => {
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
