import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RouteAccess, RouteConfig } from '../config/types.js'
import { type GrantRecord, hashKey, judgeGrant, looksLikeKey } from '../core/grants.js'
import { RETRY_AFTER_SECONDS } from '../core/respond.js'
import type { GrantRefusalReason } from '../metrics/metrics.js'
import { splitElements } from '../protocol/auth-header.js'
import { gatewayProblem } from '../protocol/problem.js'
import type { GatewayContext } from './context.js'
import { forwardToUpstream } from './forward.js'
import type { RequestRecord } from './request-record.js'
import { sendProblem } from './respond.js'

/** What a request to an access route carries: the key, and the Authorization left to forward. */
export interface PresentedKey {
  readonly key?: string
  /** Authorization without Payment credentials or keys of ours; undefined: nothing left */
  readonly authorization?: string
}

/**
 * The key in the grant's header, else in `Authorization: Bearer`. Payment credentials and every
 * Bearer token shaped like a key of ours are taken out of Authorization, so none reaches the upstream.
 */
export function presentedKey(incoming: Pick<IncomingMessage, 'headersDistinct'>, header: string): PresentedKey {
  const inHeader = incoming.headersDistinct[header.toLowerCase()]?.[0]?.trim()
  let bearer: string | undefined
  const others: string[] = []
  for (const line of incoming.headersDistinct.authorization ?? []) {
    for (const element of splitElements(line)) {
      const scheme = element.scheme.toLowerCase()
      if (scheme === 'payment') continue
      if (scheme === 'bearer' && element.params.length === 0) {
        const token = element.rest
        if (bearer === undefined && (inHeader === undefined || inHeader === '')) {
          bearer = token
          continue
        }
        if (looksLikeKey(token)) continue
      }
      others.push(element.raw)
    }
  }
  const key = inHeader !== undefined && inHeader !== '' ? inHeader : bearer
  return {
    ...(key !== undefined && key !== '' ? { key } : {}),
    ...(others.length > 0 ? { authorization: others.join(', ') } : {}),
  }
}

/** The `:param` segment of a canonical request path, percent-decoded; undefined when it is not there. */
export function paramOf(pattern: string, path: string, param: string): string | undefined {
  const index = pattern.split('/').indexOf(`:${param}`)
  const segment = path.split('/')[index]
  if (index < 0 || segment === undefined || segment === '') return undefined
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

/** RFC 6750 §3: the Bearer challenge of a refusal, with its error code when a key was presented. */
function bearerChallenge(realm: string, error?: 'invalid_token' | 'insufficient_scope'): string {
  return error ? `Bearer realm="${realm}", error="${error}"` : `Bearer realm="${realm}"`
}

const REFUSALS = {
  missing: [401, 'grant-key-required', 'Unauthorized', undefined],
  invalid: [401, 'grant-key-invalid', 'Unauthorized', 'invalid_token'],
  expired: [401, 'grant-key-expired', 'Unauthorized', 'invalid_token'],
  'wrong-scope': [403, 'grant-key-wrong-scope', 'Forbidden', 'insufficient_scope'],
} as const

/**
 * A request to a route with `access`: forwarded, without its key, only with a live key of that
 * grant minted for the id in the route's `:param`. Missing → 401 with a Bearer challenge; unknown
 * or expired → 401; another id (or grant) → 403; the store unreachable → 503. Nothing is charged.
 */
export async function handleAccessRoute(
  ctx: GatewayContext,
  route: RouteConfig,
  access: RouteAccess,
  header: string,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  paths: { readonly path: string; readonly pathAndQuery: string },
  record: RequestRecord,
): Promise<void> {
  const refuse = (reason: Exclude<GrantRefusalReason, 'store-unavailable'>, detail: string) => {
    record.grant = reason
    ctx.metrics.grantRefused(route.match, reason)
    const [status, slug, title, error] = REFUSALS[reason]
    sendProblem(outgoing, gatewayProblem(status, slug, title, detail), {
      challenges: [bearerChallenge(ctx.config.realm, error)],
    })
  }
  const presented = presentedKey(incoming, header)
  if (presented.key === undefined)
    return refuse(
      'missing',
      `This route needs the key a paid request returned in ${header}, in ${header} or as Authorization: Bearer.`,
    )
  const id = paramOf(route.path, paths.path, access.param)
  let stored: GrantRecord | undefined
  if (looksLikeKey(presented.key) && id !== undefined) {
    try {
      stored = await ctx.store.getGrant(hashKey(presented.key))
    } catch (error) {
      record.grant = 'store-unavailable'
      ctx.metrics.grantRefused(route.match, 'store-unavailable')
      ctx.metrics.backendError('store')
      ctx.logger.error('grant key not checked: the store failed', {
        route: route.match,
        detail: error instanceof Error ? error.message : String(error),
      })
      return sendProblem(
        outgoing,
        gatewayProblem(
          503,
          'store-unavailable',
          'Service Unavailable',
          'The key cannot be checked right now; retry shortly.',
        ),
        { retryAfterSeconds: RETRY_AFTER_SECONDS },
      )
    }
  }
  const verdict = judgeGrant(stored, access.grant, id ?? '', Date.now())
  if (!verdict.ok) return refuse(verdict.reason, verdict.detail)
  record.grant = 'accepted'
  await forwardToUpstream(ctx, incoming, outgoing, record, {
    pathAndQuery: paths.pathAndQuery,
    ...(presented.authorization !== undefined ? { authorization: presented.authorization } : {}),
    dropRequestHeaders: [header.toLowerCase()],
  })
}
