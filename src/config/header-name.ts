/** RFC 9110 §5.1: a field name is a token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * Why `name` cannot be a request header to strip, or undefined when it can. Names the gateway
 * frames or sets itself are refused: stripping them is already done, or would break forwarding.
 */
export function headerNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty; give a header name such as "X-Debug-User"'
  if (!TOKEN.test(name))
    return `${JSON.stringify(name)} is not a header name (letters, digits and !#$%&'*+-.^_\`|~ only, no spaces or colons)`
  if (GATEWAY_SET.has(name.toLowerCase()))
    return `${JSON.stringify(name)} is set by the gateway itself and cannot be stripped`
  return undefined
}

const GATEWAY_SET = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'payment-receipt',
  'authorization',
])
