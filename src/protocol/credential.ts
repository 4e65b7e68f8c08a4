/**
 * The Payment credential (`Authorization: Payment <base64url JSON>`, draft-httpauth-payment §5.2).
 * Credentials are bearer tokens, so no error message here ever quotes the token or its contents.
 */
import { splitElements } from './auth-header.js'
import * as base64url from './base64url.js'
import { type Challenge, encodeJson, isStringMap } from './challenge.js'

export interface Credential {
  challenge: Challenge
  payload: unknown
  source?: string
}

/** `others`: the Authorization content left once every Payment element is taken out. */
export type Extracted = ({ kind: 'none' } | { kind: 'one'; token: string } | { kind: 'multiple' }) & {
  others: string | undefined
}

/**
 * Finds the Payment credential among the Authorization field's schemes. Other schemes are kept
 * (in `others`) so the caller can pass them upstream without any credential, on free routes too.
 * More than one Payment credential is an error the spec answers with 400, so it is reported
 * rather than picking one.
 */
export function extract(authorization: string | readonly string[] | undefined): Extracted {
  const lines = authorization === undefined ? [] : typeof authorization === 'string' ? [authorization] : authorization
  let token: string | undefined
  let found = 0
  const others: string[] = []
  for (const line of lines) {
    for (const element of splitElements(line)) {
      if (element.scheme.toLowerCase() === 'payment') {
        found++
        // A bare "Payment" still counts: it is a (malformed) credential, not another scheme to forward.
        token = element.rest
      } else others.push(element.raw)
    }
  }
  const rest = others.length > 0 ? others.join(', ') : undefined
  if (found === 0) return { kind: 'none', others: rest }
  if (found > 1) return { kind: 'multiple', others: rest }
  return { kind: 'one', token: token ?? '', others: rest }
}

export const MAX_CREDENTIAL_BYTES = 16 * 1024

export class MalformedCredential extends Error {
  override name = 'MalformedCredential'
}

/** Decodes and shape-checks a credential token (the part after "Payment "). */
export function parse(token: string): Credential {
  // Checked before decoding so an oversized token costs nothing (the token is ASCII: chars = bytes).
  if (token.length > MAX_CREDENTIAL_BYTES) throw new MalformedCredential('credential is larger than 16 KiB')
  if (token === '') throw new MalformedCredential('credential is empty')
  let text: string
  try {
    text = base64url.decodeText(token)
  } catch {
    throw new MalformedCredential('credential is not valid base64url UTF-8')
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    // JSON.parse messages quote the input, so the cause is deliberately dropped.
    throw new MalformedCredential('credential is not valid JSON')
  }
  if (!isObject(json)) throw new MalformedCredential('credential is not a JSON object')
  const echoed = json.challenge
  if (!isObject(echoed)) throw new MalformedCredential('credential has no challenge object')
  const challenge: Challenge = {
    id: requiredString(echoed, 'id'),
    realm: requiredString(echoed, 'realm'),
    method: requiredString(echoed, 'method'),
    intent: requiredString(echoed, 'intent'),
    request: requiredString(echoed, 'request'),
  }
  // mppx refuses a credential whose request is not base64url JSON as malformed too.
  if (!isObject(decodeOrUndefined(challenge.request)))
    throw new MalformedCredential('challenge.request is not base64url JSON of an object')
  for (const name of ['description', 'digest', 'expires'] as const) {
    const value = echoed[name]
    if (value === undefined) continue
    if (typeof value !== 'string') throw new MalformedCredential(`challenge.${name} is not a string`)
    challenge[name] = value
  }
  const opaque = echoed.opaque
  if (typeof opaque === 'string') challenge.opaque = opaque
  else if (isStringMap(opaque))
    challenge.opaque = encodeJson(opaque) // legacy mppx clients sent the decoded map
  else if (opaque !== undefined) throw new MalformedCredential('challenge.opaque is neither a string nor a string map')
  if (!isObject(json.payload)) throw new MalformedCredential('credential has no payload object')
  const credential: Credential = { challenge, payload: json.payload }
  if (json.source !== undefined) {
    if (typeof json.source !== 'string') throw new MalformedCredential('credential source is not a string')
    credential.source = json.source
  }
  return credential
}

/** The token a client sends after "Payment " (base64url of plain JSON, as mppx clients do). */
export function serialize(c: Credential): string {
  return base64url.encode(JSON.stringify(c))
}

function requiredString(object: Record<string, unknown>, name: string): string {
  const value = object[name]
  if (typeof value !== 'string' || value === '')
    throw new MalformedCredential(`challenge.${name} is missing or not a non-empty string`)
  return value
}

function decodeOrUndefined(b64: string): unknown {
  try {
    return JSON.parse(base64url.decodeText(b64)) as unknown
  } catch {
    return undefined
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
