/**
 * The `Payment-Receipt` response field (draft-httpauth-payment §5.3): base64url (no padding) of a
 * JSON object. Plain JSON.stringify, not JCS, because that is what mppx emits and nothing binds it.
 */
import * as base64url from './base64url.js'

export interface Receipt {
  status: 'success'
  method: string
  /** RFC 3339 settlement time. */
  timestamp: string
  reference: string
  [extra: string]: string
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/

export function serialize(r: Receipt): string {
  return base64url.encode(JSON.stringify(r))
}

/** Decodes and checks a Payment-Receipt value; throws a short Error when it is not one. */
export function parse(header: string): Receipt {
  let json: unknown
  try {
    json = JSON.parse(base64url.decodeText(header.trim()))
  } catch {
    throw new Error('Payment-Receipt is not base64url JSON')
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error('Payment-Receipt is not a JSON object')
  const record = json as Record<string, unknown>
  if (record.status !== 'success') throw new Error('Payment-Receipt status is not "success"')
  for (const name of ['method', 'timestamp', 'reference']) {
    if (typeof record[name] !== 'string') throw new Error(`Payment-Receipt ${name} is missing or not a string`)
  }
  if (!RFC3339.test(record.timestamp as string))
    throw new Error('Payment-Receipt timestamp is not an RFC 3339 date-time')
  for (const [name, value] of Object.entries(record)) {
    // The type promises string extras; a method that sends other types needs a wider type first.
    if (typeof value !== 'string') throw new Error(`Payment-Receipt field "${name}" is not a string`)
  }
  return record as Receipt
}
