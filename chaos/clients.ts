import http from 'node:http'
import type { Challenge } from '../src/protocol/challenge.js'
import type { Replica } from './cluster.js'
import { PAID_PATH } from './cluster.js'
import { type ChaosCredential, challengesOfRaw } from './credentials.js'
import type { Random } from './random.js'

/** One HTTP attempt as the client saw it. */
export interface Attempt {
  credentialId: string
  at: number
  ms: number
  replica: number
  /** the HTTP status, or what went wrong before one arrived */
  status: number | 'error' | 'aborted' | 'timeout'
  problemType?: string
  detail?: string
  retryAfterSeconds?: number
  /** a probe with another SPT for the same challenge, or a re-presentation after a 2xx */
  role: 'present' | 'other-spt' | 'replay'
}

export type Final = 'served' | 'refused' | 'gave-up'

/** What became of one credential. */
export interface CredentialRun {
  credential: ChaosCredential
  attempts: Attempt[]
  final: Final
  /** the attempt that ended it (a 2xx or the refusal) */
  last?: Attempt
  /** the replacement made from the refusal's fresh challenges, when there was one */
  replacedBy?: string
}

export interface ClientContext {
  replicas: readonly Replica[]
  rng: Random
  retryWindowMs: number
  abortFraction: number
  /** every attempt, as it ends (the fault schedule counts them) */
  onAttempt(attempt: Attempt): void
  /** a new credential for the fresh challenges of a refusal the payer is told to pay again (a store reset) */
  replace(credential: ChaosCredential, challenges: Challenge[]): Promise<ChaosCredential | undefined>
  /** a second Stripe credential for the same challenge (new SPT), for the probe */
  otherSpt(credential: ChaosCredential): Promise<string>
  /** share of Stripe credentials whose client, after a 503, tries once with a new SPT for the same challenge */
  otherSptFraction: number
  /** whether a refusal is the documented store-reset one (the payer pays the fresh challenge) */
  isStoreReset(attempt: Attempt): boolean
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })
const ATTEMPT_TIMEOUT_MS = 15_000

interface Answer {
  status: number | 'error' | 'aborted' | 'timeout'
  rawHeaders: string[]
  body: string
  retryAfterSeconds?: number
}

/** One GET of the paid route with this Authorization; `abortAfterMs` makes the client walk away mid-request. */
export function send(replica: Replica, authorization: string, credentialId: string, abortAfterMs?: number) {
  return new Promise<Answer>((resolve) => {
    let settled = false
    const done = (answer: Answer) => {
      if (settled) return
      settled = true
      clearTimeout(abortTimer)
      clearTimeout(timeoutTimer)
      resolve(answer)
    }
    const req = http.request(`${replica.url}${PAID_PATH}`, {
      agent,
      headers: { authorization, 'x-chaos-credential': credentialId },
    })
    const abortTimer =
      abortAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            done({ status: 'aborted', rawHeaders: [], body: '' })
            req.destroy()
          }, abortAfterMs)
    const timeoutTimer = setTimeout(() => {
      done({ status: 'timeout', rawHeaders: [], body: '' })
      req.destroy()
    }, ATTEMPT_TIMEOUT_MS)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const retryAfter = Number(res.headers['retry-after'])
        done({
          status: res.statusCode ?? 0,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks).toString('utf8'),
          ...(Number.isFinite(retryAfter) && res.headers['retry-after'] !== undefined
            ? { retryAfterSeconds: retryAfter }
            : {}),
        })
      })
      res.on('error', () => done({ status: 'error', rawHeaders: [], body: '' }))
    })
    req.on('error', () => done({ status: 'error', rawHeaders: [], body: '' }))
    req.end()
  })
}

function attemptOf(credentialId: string, role: Attempt['role'], replica: Replica, at: number, answer: Answer): Attempt {
  const attempt: Attempt = {
    credentialId,
    at,
    ms: Date.now() - at,
    replica: replica.index,
    status: answer.status,
    role,
  }
  if (answer.retryAfterSeconds !== undefined) attempt.retryAfterSeconds = answer.retryAfterSeconds
  if (typeof answer.status === 'number' && answer.status >= 400) {
    try {
      const problem = JSON.parse(answer.body) as { type?: unknown; detail?: unknown }
      if (typeof problem.type === 'string') attempt.problemType = problem.type
      if (typeof problem.detail === 'string') attempt.detail = problem.detail
    } catch {
      // not a problem document: the status says enough
    }
  }
  return attempt
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)))

function pickReplica(ctx: ClientContext): Replica {
  const live = ctx.replicas.filter((r) => r.alive())
  return ctx.rng.pick(live.length > 0 ? live : ctx.replicas)
}

/**
 * Presents one credential until it is served or refused: on a 503, a connection error or its own
 * abort it sends the same credential again (any replica), honouring Retry-After, for at most
 * `retryWindowMs`. A store-reset refusal is paid again with the 402's fresh challenge.
 */
export async function present(credential: ChaosCredential, ctx: ClientContext, runs: CredentialRun[]): Promise<void> {
  const run: CredentialRun = { credential, attempts: [], final: 'gave-up' }
  runs.push(run)
  await credential.payFirst?.()
  const deadline = Date.now() + ctx.retryWindowMs
  let probed = false
  for (let n = 0; ; n++) {
    const replica = pickReplica(ctx)
    const abortAfter = n === 0 && ctx.rng.chance(ctx.abortFraction) ? ctx.rng.int(5, 400) : undefined
    const at = Date.now()
    const answer = await send(replica, credential.authorization, credential.id, abortAfter)
    const attempt = attemptOf(credential.id, 'present', replica, at, answer)
    run.attempts.push(attempt)
    ctx.onAttempt(attempt)
    const { status } = attempt
    if (typeof status === 'number' && status >= 200 && status < 300) {
      run.final = 'served'
      run.last = attempt
      return
    }
    if (typeof status === 'number' && status !== 503) {
      run.final = 'refused'
      run.last = attempt
      if (status === 402 && ctx.isStoreReset(attempt)) {
        const replacement = await ctx.replace(credential, challengesOfRaw(answer.rawHeaders))
        if (replacement) {
          run.replacedBy = replacement.id
          await present(replacement, ctx, runs)
        }
      }
      return
    }
    // only after Stripe itself failed (the late charge), never on a store outage, where the
    // probe's own claim could land late and lock the client out of its first credential
    const stripeFailed = status === 503 && /stripe-unavailable$/.test(attempt.problemType ?? '')
    if (credential.kind === 'stripe' && stripeFailed && !probed && ctx.rng.chance(ctx.otherSptFraction)) {
      probed = true
      if (await probeOtherSpt(credential, ctx, run)) return
    }
    const remaining = deadline - Date.now()
    if (remaining <= 0) return
    const wait =
      status === 503 && attempt.retryAfterSeconds !== undefined
        ? attempt.retryAfterSeconds * 1000 + ctx.rng.int(0, 250)
        : ctx.rng.int(50, 400)
    await sleep(Math.min(wait, remaining))
  }
}

/** The second-charge case: a new SPT for a challenge whose first SPT may be charging late. */
async function probeOtherSpt(credential: ChaosCredential, ctx: ClientContext, run: CredentialRun): Promise<boolean> {
  const authorization = await ctx.otherSpt(credential)
  const replica = pickReplica(ctx)
  const at = Date.now()
  const answer = await send(replica, authorization, credential.id)
  const attempt = attemptOf(credential.id, 'other-spt', replica, at, answer)
  run.attempts.push(attempt)
  ctx.onAttempt(attempt)
  if (typeof attempt.status === 'number' && attempt.status >= 200 && attempt.status < 300) {
    run.final = 'served'
    run.last = attempt
    return true
  }
  return false
}

/** A served credential presented once more: it must not be served again. */
export async function replay(run: CredentialRun, ctx: ClientContext): Promise<Attempt> {
  const replica = pickReplica(ctx)
  const at = Date.now()
  const answer = await send(replica, run.credential.authorization, `${run.credential.id}`)
  const attempt = attemptOf(run.credential.id, 'replay', replica, at, answer)
  ctx.onAttempt(attempt)
  return attempt
}
