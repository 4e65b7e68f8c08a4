import type { GatewayConfig } from '../config/types.js'
import type { OfferTable } from '../core/price-table.js'
import { pluginOf } from '../methods/index.js'

/**
 * `/llms.txt` (llmstxt.org): what an agent needs to call this API and pay for it, in plain
 * Markdown, generated from the live route table. Deterministic, and free of secrets.
 */
export function buildLlmsTxt(
  config: GatewayConfig,
  offers: OfferTable,
  options: { openapiPath?: string } = {},
): string {
  const methods = [...new Set([...offers.values()].flatMap((o) => o.offers.map((offer) => offer.method.name)))]
  const lines = [
    `# ${config.realm}`,
    '',
    '> An HTTP API priced per request with the Machine Payments Protocol (MPP): the Payment HTTP authentication scheme.',
    '',
    '## How to pay',
    '',
    '- Call a priced route. The answer is `402 Payment Required` with one `WWW-Authenticate: Payment ...` challenge per accepted payment method.',
    '- Pay one challenge with an MPP client (for example mppx or pympp) and repeat the request with `Authorization: Payment <credential>`.',
    '- The answer carries a `Payment-Receipt` header. Each credential pays for one request.',
    `- Accepted methods: ${methods.length > 0 ? methods.join(', ') : 'none (every route is free)'}.`,
    ...(options.openapiPath
      ? [`- Machine-readable prices: [OpenAPI](${options.openapiPath}) (\`x-payment-info\` on each priced operation).`]
      : []),
    '',
    '## Routes',
    '',
  ]
  for (const route of config.routes) {
    const text = route.description ? `: ${route.description}` : ''
    if (route.access) {
      const granting = config.routes.find((r) => r.grant?.name === route.access!.grant)
      const header = granting?.grant?.header ?? 'the key header'
      lines.push(
        `- \`${route.match}\`${text}: free with the key a paid \`${granting?.match}\` returns in \`${header}\` (send it there, or as \`Authorization: Bearer\`), for the \`${route.access.param}\` it names`,
      )
      continue
    }
    if (route.price.kind === 'free' || route.mode === 'shadow') {
      lines.push(`- \`${route.match}\`${text}: free`)
      continue
    }
    const prices = offers
      .get(route)!
      .offers.map((offer) => pluginOf(offer.method).describeOffer(offer.request))
      .join('; ')
    const grant = route.grant ? `; a 2xx answer carries a key in \`${route.grant.header}\`` : ''
    lines.push(`- \`${route.match}\`${text}: ${prices}${grant}`)
  }
  return `${lines.join('\n')}\n`
}
