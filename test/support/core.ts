/*
 * Fixtures for the payment core's unit tests: a recording logger, a fake method, a core on the
 * memory store with a clock the test moves, and readers of its decisions.
 */
import type { RateBudget, RouteConfig } from '../../src/config/types.js'
import type { Logger } from '../../src/log/logger.js'
import type { ChargeRequest, PaymentMethod, SettleInput, Settlement } from '../../src/core/method.js'
import { type Challenge, computeId, encodeJson, parseList } from '../../src/protocol/challenge.js'
import { serialize as serializeCredential } from '../../src/protocol/credential.js'
import { createMemoryStore } from '../../src/store/memory.js'
import type { Settlements } from '../../src/store/ports.js'
import { type PaymentCoreDeps, createPaymentCore } from '../../src/core/core.js'
import type { Decision, ForwardDecision, PaymentInput, RespondDecision } from '../../src/core/decision.js'
import type { Count } from '../../src/core/outcome.js'
import type { RouteOffers } from '../../src/core/price-table.js'

export const KEY = 'core-test-key-0123456789-abcdefghijklmnopqr'
export const OLD_KEY = 'core-test-old-key-0123456789-abcdefghijklm'
export const REALM = 'api.example.com'
export const NOW = Date.parse('2026-12-01T10:00:00Z')
export const TTL_MS = 300_000
export const quoted: ChargeRequest = { amount: '500000', currency: 'usd' }

export interface LogLine {
  level: string
  message: string
  fields: Record<string, unknown>
}

export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = []
  const at =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, message, fields })
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** A method whose settle does what the test says; every call is kept. */
export function fakeMethod(
  name: string,
  // as a real method: `settling` right before the call that moves money
  settle: (input: SettleInput) => Promise<Settlement> = async (input) => {
    await input.settling({ ref: 'ref_1' })
    return { reference: 'ref_1' }
  },
  extra: Partial<PaymentMethod> = {},
): PaymentMethod & { calls: SettleInput[] } {
  const calls: SettleInput[] = []
  return {
    name,
    quote: () => ({ ok: true, request: quoted }),
    settle: async (input) => {
      calls.push(input)
      return settle(input)
    },
    calls,
    ...extra,
  }
}

export function routeOffersFor(methods: PaymentMethod[], route: Partial<RouteConfig> = {}): RouteOffers {
  return {
    route: { match: 'GET /v1/report', maxBodyBytes: 1024, ...route } as RouteConfig,
    offers: methods.map((method) => ({
      method,
      intent: 'charge',
      request: quoted,
      encodedRequest: encodeJson(quoted),
    })),
    unavailable: [],
  }
}

export interface Setup {
  core: ReturnType<typeof createPaymentCore>
  store: ReturnType<typeof createMemoryStore>
  logger: ReturnType<typeof recordingLogger>
  clock: { now: number }
}

export function setup(
  options: {
    stores?: Partial<PaymentCoreDeps['stores']>
    /** wraps the memory store's settlement records (a store double that loses answers, say) */
    wrapSettlements?: (store: Settlements, clock: { now: number }) => Settlements
    challengeRateLimit?: RateBudget
    depositIntentRateLimit?: RateBudget
    secretKeys?: string[]
  } = {},
): Setup {
  const clock = { now: NOW }
  const store = createMemoryStore({ now: () => clock.now })
  const logger = recordingLogger()
  const core = createPaymentCore({
    config: {
      realm: REALM,
      challengeTtlMs: TTL_MS,
      recoveryWindowMs: TTL_MS + 600_000,
      challengeRateLimit: options.challengeRateLimit,
      depositIntentRateLimit: options.depositIntentRateLimit ?? { limit: 1000, windowMs: 60_000 },
    },
    stores: {
      claims: store,
      settlements: options.wrapSettlements?.(store, clock) ?? store,
      rateCounter: store,
      ledger: store,
      ...options.stores,
    },
    logger,
    now: () => clock.now,
    secretKeys: options.secretKeys ?? [KEY],
  })
  return { core, store, logger, clock }
}

export function input(route: RouteOffers, extra: Partial<PaymentInput> = {}): PaymentInput {
  return { method: 'GET', path: '/v1/report', route, headers: {}, body: undefined, clientIp: '192.0.2.1', ...extra }
}

export function respondOf(decision: Decision): RespondDecision {
  if (decision.kind !== 'respond') throw new Error(`expected respond, got ${decision.kind}`)
  return decision
}

export function forwardOf(decision: Decision): ForwardDecision {
  if (decision.kind !== 'forward') throw new Error(`expected forward, got ${respondOf(decision).body}`)
  return decision
}

export function problemOf(decision: Decision): Record<string, unknown> {
  return JSON.parse(respondOf(decision).body) as Record<string, unknown>
}

export function challengesOf(decision: Decision): Challenge[] {
  const lines = respondOf(decision).headers['WWW-Authenticate']
  return lines === undefined ? [] : [lines].flat().flatMap((line) => parseList(line))
}

export function authorizationFor(challenge: Challenge, payload: unknown = { token: 'spt_1' }): string {
  return `Payment ${serializeCredential({ challenge, payload })}`
}

/** A 402's first challenge, then the paid retry's decision. */
export async function pay(s: Setup, route: RouteOffers, extra: Partial<PaymentInput> = {}): Promise<Decision> {
  const [challenge] = challengesOf(await s.core.handle(input(route, extra)))
  return s.core.handle(
    input(route, { ...extra, headers: { ...extra.headers, authorization: authorizationFor(challenge!) } }),
  )
}

/** A challenge as this gateway signs it, with fields changed; re-signed with `key`. */
export function signed(challenge: Challenge, changes: Partial<Challenge>, key = KEY): Challenge {
  const { id: _id, description: _description, ...bound } = { ...challenge, ...changes }
  return { id: computeId(key, bound), ...bound }
}

export const metricsOf = (decision: Decision): string[] => decision.outcome.counts.map((c: Count) => c.metric)
