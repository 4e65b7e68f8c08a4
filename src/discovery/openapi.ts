import type { GatewayConfig, RouteConfig } from '../config/types.js'
import type { OfferTable } from '../core/price-table.js'

const ANY_METHOD = ['get', 'post', 'put', 'patch', 'delete'] as const

/** A payment offer object (draft-payment-discovery §Payment Offer Object). */
interface PaymentOffer {
  intent: 'charge'
  method: string
  amount: string
  currency: string
  description?: string
}

/**
 * The OpenAPI 3.1 document of the gateway's routes (draft-payment-discovery §OpenAPI Discovery):
 * each priced operation carries `x-payment-info` in the multi-offer form, one offer per method,
 * with the amount and currency its challenge will carry, and declares a 402 response. Built only
 * from routes and offers: nothing secret is in reach. Routes in shadow mode are free to callers
 * for now and are described as such.
 */
export function buildOpenApi(config: GatewayConfig, offers: OfferTable, options: { llmsUrl?: string } = {}): object {
  const paths: Record<string, Record<string, object>> = {}
  // a grant's key, as an API key in its header (Authorization: Bearer works too)
  const securitySchemes: Record<string, object> = {}
  for (const route of config.routes) {
    if (!route.grant) continue
    securitySchemes[route.grant.name] = {
      type: 'apiKey',
      in: 'header',
      name: route.grant.header,
      description: `Returned in ${route.grant.header} by a paid ${route.match}; good for the id it names, for ${route.grant.ttlMs / 1000} s.`,
    }
  }
  for (const route of config.routes) {
    const { path, parameters, prefix } = openApiPath(route.path)
    const operations = (paths[path] ??= {})
    const methods = route.method === '*' ? ANY_METHOD : [route.method.toLowerCase()]
    const priced = route.price.kind === 'charge' && route.mode === 'enforce'
    const payment: PaymentOffer[] = priced
      ? offers.get(route)!.offers.map((offer) => ({
          intent: offer.intent,
          method: offer.method.name,
          amount: offer.request.amount,
          currency: offer.request.currency,
          ...(route.description ? { description: route.description } : {}),
        }))
      : []
    for (const method of methods) {
      // The first route wins at runtime, so a later one for the same operation is never reached.
      if (operations[method]) continue
      operations[method] = {
        summary: route.description ?? `${route.method === '*' ? method.toUpperCase() : route.method} ${route.path}`,
        ...(prefix ? { description: `Covers every path under ${prefix}.` } : {}),
        ...(parameters.length > 0
          ? { parameters: parameters.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })) }
          : {}),
        ...(payment.length > 0 ? { 'x-payment-info': { offers: payment } } : {}),
        ...(route.access ? { security: [{ [route.access.grant]: [] }] } : {}),
        responses: {
          '200': { description: 'Successful response' },
          ...(route.access
            ? {
                '401': { description: 'No key, or an unknown or expired one.' },
                '403': { description: `A key for another ${route.access.param}.` },
              }
            : {}),
          ...(payment.length > 0
            ? {
                '402': {
                  description:
                    'Payment Required: pay one of the WWW-Authenticate: Payment challenges and retry with Authorization: Payment <credential>.',
                  headers: {
                    'WWW-Authenticate': {
                      description: 'One Payment challenge per accepted method.',
                      schema: { type: 'string' },
                    },
                  },
                  content: { 'application/problem+json': { schema: { type: 'object' } } },
                },
              }
            : {}),
        },
      }
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: config.realm,
      version: '1',
      description: 'Priced with the Machine Payments Protocol (HTTP 402, the Payment authentication scheme).',
    },
    ...(options.llmsUrl ? { 'x-service-info': { docs: { llms: options.llmsUrl } } } : {}),
    paths,
    ...(Object.keys(securitySchemes).length > 0 ? { components: { securitySchemes } } : {}),
  }
}

/** "/v1/reports/:id" → "/v1/reports/{id}"; a final "*" becomes a "{path}" parameter. */
function openApiPath(pattern: RouteConfig['path']): { path: string; parameters: string[]; prefix?: string } {
  const parameters: string[] = []
  let prefix: string | undefined
  const segments = pattern.split('/').map((segment, i, all) => {
    if (segment.startsWith(':')) {
      parameters.push(segment.slice(1))
      return `{${segment.slice(1)}}`
    }
    if (segment === '*' && i === all.length - 1) {
      prefix = `${all.slice(0, i).join('/')}/`
      parameters.push('path')
      return '{path}'
    }
    return segment
  })
  return { path: segments.join('/'), parameters, ...(prefix ? { prefix } : {}) }
}
