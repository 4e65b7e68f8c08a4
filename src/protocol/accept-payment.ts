/**
 * The `Accept-Payment` request field (draft-httpauth-payment §Client Payment Preferences): which
 * method/intent pairs a client can pay, with HTTP q-weights, used to order and filter our offers.
 */

export interface PaymentRange {
  /** A payment method id, or "*". */
  method: string
  /** An intent, or "*". */
  intent: string
  /** Weight in [0, 1]; 0 means "do not offer". */
  q: number
}

// Method ids are lowercase letters per the spec; digits and "-" are tolerated as mppx does.
const METHOD = /^(?:\*|[a-z0-9-]+)$/
const INTENT = /^(?:\*|[A-Za-z0-9-]+)$/
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/
const PARAM = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)=([^\s;]*)$/

/** The ranges in header order, or undefined when the value is malformed (or lists nothing). */
export function parse(header: string): PaymentRange[] | undefined {
  const ranges: PaymentRange[] = []
  for (const element of header.split(',')) {
    const trimmed = element.trim()
    if (trimmed === '') continue // the list syntax allows empty elements
    const [token, ...params] = trimmed.split(';').map((part) => part.trim())
    const slash = token!.indexOf('/')
    if (slash < 0) return undefined
    const method = token!.slice(0, slash)
    const intent = token!.slice(slash + 1)
    if (!METHOD.test(method) || !INTENT.test(intent)) return undefined
    let q: number | undefined
    for (const param of params) {
      const match = PARAM.exec(param)
      if (!match) return undefined
      // Only the weight is defined; other parameters are extension points and are ignored.
      if (match[1]!.toLowerCase() !== 'q') continue
      if (q !== undefined || !QVALUE.test(match[2]!)) return undefined
      q = Number(match[2])
    }
    ranges.push({ method, intent, q: q ?? 1 })
  }
  return ranges.length > 0 ? ranges : undefined
}

/**
 * Orders offers by the client's preference: each offer takes the q of the most specific range
 * that matches it (among equally specific ones, the highest q, as mppx does); unmatched and q=0
 * offers are dropped; ties keep server order. An absent or malformed header, or one that leaves
 * nothing, changes nothing: the spec lets the server fall back to its normal set.
 */
export function rank<T extends { method: string; intent: string }>(
  offers: readonly T[],
  header: string | undefined,
): T[] {
  if (header === undefined) return [...offers]
  const ranges = parse(header)
  if (ranges === undefined) return [...offers]
  const kept: { offer: T; q: number; index: number }[] = []
  offers.forEach((offer, index) => {
    let best: { specificity: number; q: number } | undefined
    for (const range of ranges) {
      if (range.method !== '*' && range.method !== offer.method) continue
      if (range.intent !== '*' && range.intent !== offer.intent) continue
      const specificity = (range.method === '*' ? 0 : 1) + (range.intent === '*' ? 0 : 1)
      if (!best || specificity > best.specificity || (specificity === best.specificity && range.q > best.q))
        best = { specificity, q: range.q }
    }
    if (best && best.q > 0) kept.push({ offer, q: best.q, index })
  })
  if (kept.length === 0) return [...offers]
  kept.sort((a, b) => b.q - a.q || a.index - b.index)
  return kept.map((entry) => entry.offer)
}
