/** The whole body of a Web request, or `too-large` as soon as it passes `limit` bytes (the rest is not read). */
export type ReadBody = { readonly ok: true; readonly body: Uint8Array | undefined } | { readonly ok: false }

/**
 * Reads a request body for its digest, refusing a declared or streamed length over `limit`
 * before buffering it all. A request without a body (GET, or an empty one) gives undefined, which
 * is what the core takes for "no body".
 */
export async function readWebBody(request: Request, limit: number): Promise<ReadBody> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (declared > limit) return { ok: false }
  if (request.body === null) return { ok: true, body: undefined }
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let length = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    length += value.byteLength
    if (length > limit) {
      await reader.cancel()
      return { ok: false }
    }
    chunks.push(value)
  }
  if (length === 0) return { ok: true, body: undefined }
  const body = new Uint8Array(length)
  let at = 0
  for (const chunk of chunks) {
    body.set(chunk, at)
    at += chunk.byteLength
  }
  return { ok: true, body }
}
