import type { IncomingHttpHeaders } from 'node:http'

/**
 * How an inbound request's body is framed, so the forwarded request can carry exactly one framing
 * that matches the bytes sent (RFC 9112 §6.3). Node's parser has already refused the ambiguous
 * cases (Content-Length with Transfer-Encoding, repeated or malformed Content-Length, chunked not
 * last); what is left is no body, a declared length, chunked, or a transfer coding we cannot pass on.
 * - `none`: no body; nothing is written upstream, whatever the method.
 * - `length`: Content-Length as received (Node checked it is one decimal number).
 * - `chunked`: re-sent chunked (Node decoded it; extensions and trailers go).
 * - `unsupported`: a coding before chunked (`gzip, chunked`): answered 501 (RFC 9112 §6.1).
 */
export type RequestFraming = 'none' | 'length' | 'chunked' | 'unsupported'

export function requestFraming(headers: IncomingHttpHeaders): RequestFraming {
  const te = headers['transfer-encoding']
  if (te !== undefined) return te.trim().toLowerCase() === 'chunked' ? 'chunked' : 'unsupported'
  return headers['content-length'] === undefined ? 'none' : 'length'
}
