import type { RouteConfig, RouteGrant } from '../config/types.js'
import { GRANT_BODY_LIMIT, hashKey, idFromResponse, mintKey } from '../core/grants.js'
import type { ResponseHold } from '../proxy/upstream.js'
import type { GatewayContext } from './context.js'
import type { RequestRecord } from './request-record.js'

/** A grant record outlives its key by a day, so an expired key gets "expired" rather than "unknown". */
export const KEEP_AFTER_EXPIRY_MS = 86_400_000

/**
 * The hold of a paid route with a `grant`: its 2xx waits until a key is minted for the id the
 * response names, and carries it in the grant's header. No id, or no store, means no key (the
 * payer is still served: the payment was for the answer). The key itself is never logged.
 */
export function grantHold(
  ctx: Pick<GatewayContext, 'store' | 'logger' | 'metrics'>,
  route: RouteConfig,
  grant: RouteGrant,
  record: RequestRecord,
  now: () => number = Date.now,
): ResponseHold {
  const fromBody = grant.idFrom.from === 'response-body'
  return {
    bodyBytes: fromBody ? GRANT_BODY_LIMIT : 0,
    async headers(_status, upstreamHeaders, body) {
      const id = idFromResponse(grant.idFrom, upstreamHeaders, body)
      if (id === undefined) {
        record.grant = 'not-issued'
        const where = fromBody
          ? body === undefined
            ? `the response body was not read whole (over ${GRANT_BODY_LIMIT} bytes, or slower than upstream.timeout)`
            : `the JSON response body has no string or integer at ${JSON.stringify(grant.idFrom.pointer)}`
          : `the response has no usable ${grant.idFrom.name} header`
        ctx.logger.warn('grant key not issued', { route: route.match, grant: grant.name, detail: where })
        return []
      }
      const key = mintKey()
      const expiresAt = now() + grant.ttlMs
      try {
        await ctx.store.putGrant(hashKey(key), { grant: grant.name, id, expiresAt }, expiresAt + KEEP_AFTER_EXPIRY_MS)
      } catch (error) {
        record.grant = 'not-issued'
        ctx.metrics.backendError('store')
        ctx.logger.error('grant key not issued: the store failed', {
          route: route.match,
          grant: grant.name,
          detail: error instanceof Error ? error.message : String(error),
        })
        return []
      }
      record.grant = 'issued'
      ctx.metrics.grantIssued(route.match, grant.name)
      return [[grant.header, key]]
    },
  }
}
