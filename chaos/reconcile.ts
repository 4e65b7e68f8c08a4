import * as AttributionMemo from '../src/methods/tempo/attribution-memo.js'
import { parse as parseReceipt } from '../src/protocol/receipt.js'
import type { FakePaymentIntent } from '../src/sandbox/fake-stripe.js'
import { PATH_USD, type RpcReceipt } from '../src/sandbox/tempo-node.js'
import type { Attempt, CredentialRun } from './clients.js'
import { PRICE_UNITS, REALM, RECIPIENT } from './cluster.js'
import type { FaultRecord } from './faults.js'
import type { UpstreamHit } from './upstream.js'

/** Everything the four accounts and the clients recorded, gathered once the run is over. */
export interface Evidence {
  runs: CredentialRun[]
  replays: Attempt[]
  hits: UpstreamHit[]
  paymentIntents: FakePaymentIntent[]
  /** every transaction the stand-in included, with when */
  included: Array<{ at: number; receipt: RpcReceipt }>
  /** the ledger stream as read at the end (a store wipe loses what came before it) */
  ledger: Array<Record<string, string>>
  wipes: number[]
  faults: FaultRecord[]
  /** lines of the replicas' logs reporting a settlement nobody came back for */
  unfinishedLogLines: number
  isStoreReset(attempt: Attempt): boolean
}

export interface Payment {
  method: 'stripe' | 'tempo'
  reference: string
  challengeId: string
  at: number
}

/** A count that must be 0, with the credentials behind it (for the report). */
export interface Gate {
  name: string
  count: number
  examples: string[]
}

export interface Reconciliation {
  credentials: number
  replacements: number
  httpAttempts: number
  otherSptProbes: number
  replays: number
  served: number
  servedInTheEnd: number
  paid: number
  paidStripe: number
  paidTempo: number
  upstreamHits: number
  refused: number
  gaveUp: number
  gaveUpUnpaid: number
  gates: Gate[]
  documented: Array<{ name: string; count: number; why: string }>
  byKind: Record<string, { credentials: number; served: number; paid: number }>
  finalAnswers: Record<string, number>
  ledger: Record<string, number>
  perFault: Array<{ fault: FaultRecord; answers: Record<string, number>; bad: number }>
  unfinishedLogLines: number
}

const isOk = (status: Attempt['status']) => typeof status === 'number' && status >= 200 && status < 300

export function answerClass(attempt: Attempt): string {
  if (typeof attempt.status !== 'number') return attempt.status
  if (attempt.status >= 200 && attempt.status < 300) return '2xx'
  const slug = attempt.problemType?.split(/[:/]/).at(-1)
  return slug ? `${attempt.status} ${slug}` : String(attempt.status)
}

/** Who paid what: succeeded PaymentIntents by `metadata.mpp_challenge_id`, and transfers to the recipient by memo. */
export function paymentsOf(
  evidence: Evidence,
  challengeIds: Iterable<string>,
): { payments: Payment[]; unattributed: number } {
  const payments: Payment[] = []
  for (const pi of evidence.paymentIntents) {
    if (pi.status !== 'succeeded') continue
    const challengeId = pi.metadata.mpp_challenge_id
    if (challengeId) payments.push({ method: 'stripe', reference: pi.id, challengeId, at: pi.created * 1000 })
  }
  const byMemo = new Map<string, string>()
  for (const id of challengeIds) byMemo.set(AttributionMemo.encode({ realm: REALM, challengeId: id }).toLowerCase(), id)
  const recipient = RECIPIENT.slice(2).toLowerCase()
  let unattributed = 0
  for (const { at, receipt } of evidence.included) {
    if (receipt.status !== '0x1') continue
    for (const log of receipt.logs) {
      // TransferWithMemo(from, to, memo): four topics, the memo last
      if (log.topics.length !== 4 || log.address.toLowerCase() !== PATH_USD.toLowerCase()) continue
      if (!log.topics[2]!.toLowerCase().endsWith(recipient) || BigInt(log.data) < PRICE_UNITS) continue
      const challengeId = byMemo.get(log.topics[3]!.toLowerCase())
      if (!challengeId) {
        unattributed++
        continue
      }
      payments.push({ method: 'tempo', reference: receipt.transactionHash.toLowerCase(), challengeId, at })
    }
  }
  return { payments, unattributed }
}

function receiptReference(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  try {
    return parseReceipt(raw).reference.toLowerCase()
  } catch {
    return undefined
  }
}

export function reconcile(evidence: Evidence): Reconciliation {
  const runs = evidence.runs
  const byCredential = new Map(runs.map((r) => [r.credential.id, r]))
  const runsByChallenge = new Map<string, CredentialRun>()
  for (const r of runs) runsByChallenge.set(r.credential.challengeId, r)
  const { payments, unattributed } = paymentsOf(evidence, runsByChallenge.keys())
  const paymentsByChallenge = new Map<string, Payment[]>()
  for (const p of payments)
    paymentsByChallenge.set(p.challengeId, [...(paymentsByChallenge.get(p.challengeId) ?? []), p])
  const paymentByReference = new Map(payments.map((p) => [p.reference.toLowerCase(), p]))
  const paid = (challengeId: string) => (paymentsByChallenge.get(challengeId)?.length ?? 0) > 0

  // unpaid forwarded: an upstream hit whose receipt names no payment for the challenge it was sent with
  const unpaidForwarded: string[] = []
  for (const hit of evidence.hits) {
    const run = hit.credentialId ? byCredential.get(hit.credentialId) : undefined
    const reference = receiptReference(hit.receipt)
    const payment = reference ? paymentByReference.get(reference) : undefined
    const label = hit.credentialId ?? '(no credential header)'
    if (!payment)
      unpaidForwarded.push(`${label}: ${reference ? `receipt ${reference} names no payment` : 'no receipt'}`)
    else if (run && payment.challengeId !== run.credential.challengeId)
      unpaidForwarded.push(`${label}: receipt ${reference} pays another challenge`)
  }

  const settledTwice = [...paymentsByChallenge.entries()]
    .filter(([, list]) => list.length > 1)
    .map(([id, list]) => {
      const run = runsByChallenge.get(id)
      return `${run?.credential.id ?? id}: ${list.map((p) => p.reference).join(', ')}${run ? `: ${answers(run)}` : ''}`
    })

  // the ledger: the latest entry per challenge id is its state
  const latest = new Map<string, Record<string, string>>()
  for (const entry of evidence.ledger) if (entry.challengeId) latest.set(entry.challengeId, entry)

  const paidNeverServed: string[] = []
  const paidThenReset: string[] = []
  const deliveredAfterAbort: string[] = []
  for (const [challengeId] of paymentsByChallenge) {
    const run = runsByChallenge.get(challengeId)
    if (!run || run.final === 'served') continue
    if (run.last && evidence.isStoreReset(run.last)) paidThenReset.push(run.credential.kind)
    else if (deliveredInFull(latest.get(challengeId)) && run.attempts.some((a) => a.status === 'aborted'))
      deliveredAfterAbort.push(run.credential.id)
    else
      paidNeverServed.push(
        `${run.credential.id} (${run.credential.kind}): ${run.final}: ${answers(run)}${run.last?.detail ? ` (${run.last.detail})` : ''}; ledger: ${ledgerLine(latest.get(challengeId))}`,
      )
  }

  const burned: string[] = []
  const refusedAfterReset: string[] = []
  const expiredBeforeUse: string[] = []
  for (const run of runs) {
    if (run.final !== 'refused' || paid(run.credential.challengeId) || !run.last) continue
    if (evidence.isStoreReset(run.last)) refusedAfterReset.push(run.credential.id)
    else if (/payment-expired$/.test(run.last.problemType ?? '') && run.attempts[0]!.at > run.credential.expiresAt)
      expiredBeforeUse.push(run.credential.id)
    else burned.push(`${run.credential.id} (${run.credential.kind}): ${answers(run)}`)
  }

  const usedServedAgain = evidence.replays
    .filter((a) => isOk(a.status))
    .map((a) => `${a.credentialId}: served again on replica ${a.replica}`)

  const ledger: Record<string, number> = { entries: evidence.ledger.length }
  const bump = (record: Record<string, number>, key: string, by = 1) => (record[key] = (record[key] ?? 0) + by)
  for (const entry of latest.values()) bump(ledger, `latest state ${entry.state ?? '(none)'}`)
  for (const [challengeId, list] of paymentsByChallenge) {
    if (latest.has(challengeId)) continue
    const lostToWipe = evidence.wipes.some((w) => w > Math.min(...list.map((p) => p.at)))
    bump(ledger, lostToWipe ? 'paid, entry lost in a store wipe' : 'paid, no entry (store up)')
  }
  for (const challengeId of latest.keys()) if (!paid(challengeId)) bump(ledger, 'entries without a payment')
  if (unattributed > 0) ledger['transfers to the recipient with an unknown memo'] = unattributed

  const gates: Gate[] = [
    gate('unpaid forwarded', unpaidForwarded),
    gate('settled twice', settledTwice),
    gate('paid but never served after retries', paidNeverServed),
    gate('burned without payment', burned),
    gate('used credential served again (replay)', usedServedAgain),
  ]

  const byKind: Reconciliation['byKind'] = {}
  const finalAnswers: Record<string, number> = {}
  for (const run of runs) {
    const kind = (byKind[run.credential.kind] ??= { credentials: 0, served: 0, paid: 0 })
    kind.credentials++
    if (run.final === 'served') kind.served++
    if (paid(run.credential.challengeId)) kind.paid++
    bump(finalAnswers, run.final === 'gave-up' ? `gave up (last ${lastAnswer(run)})` : lastAnswer(run))
  }

  const badIds = new Set(
    [...paidNeverServed, ...burned, ...unpaidForwarded, ...settledTwice, ...usedServedAgain].map(
      (s) => s.split(/[: ]/)[0]!,
    ),
  )
  const allAttempts = [...runs.flatMap((r) => r.attempts), ...evidence.replays]
  const perFault = evidence.faults.map((fault) => {
    const inWindow = (a: Attempt) => a.at + a.ms >= fault.start && a.at <= fault.end + 2000
    const answers: Record<string, number> = {}
    for (const a of allAttempts) if (inWindow(a)) bump(answers, answerClass(a))
    const bad = runs.filter((r) => badIds.has(r.credential.id) && r.attempts.some(inWindow)).length
    return { fault, answers, bad }
  })

  const originals = runs.filter((r) => r.credential.replaces === undefined)
  const endOf = (run: CredentialRun): CredentialRun => {
    const next = run.replacedBy ? byCredential.get(run.replacedBy) : undefined
    return next ? endOf(next) : run
  }
  return {
    credentials: originals.length,
    replacements: runs.length - originals.length,
    httpAttempts: allAttempts.length,
    otherSptProbes: allAttempts.filter((a) => a.role === 'other-spt').length,
    replays: evidence.replays.length,
    served: runs.filter((r) => r.final === 'served').length,
    servedInTheEnd: originals.filter((r) => endOf(r).final === 'served').length,
    paid: paymentsByChallenge.size,
    paidStripe: [...paymentsByChallenge.values()].filter((l) => l.some((p) => p.method === 'stripe')).length,
    paidTempo: [...paymentsByChallenge.values()].filter((l) => l.some((p) => p.method === 'tempo')).length,
    upstreamHits: evidence.hits.length,
    refused: runs.filter((r) => r.final === 'refused').length,
    gaveUp: runs.filter((r) => r.final === 'gave-up').length,
    gaveUpUnpaid: runs.filter((r) => r.final === 'gave-up' && !paid(r.credential.challengeId)).length,
    gates,
    documented: [
      {
        name: 'refused after a store reset, paid again',
        count: refusedAfterReset.length,
        why: 'contract §7: a challenge issued before the store was wiped gets 402 invalid-challenge; the client pays the fresh one',
      },
      {
        name: 'paid, then refused after a store reset',
        count: paidThenReset.length,
        why: `contract §7: a payment made before the wipe was noticed cannot be told from a used one, so it is refused: a refund case, listed here rather than hidden (${kindCounts(paidThenReset)}). A push payer pays before it presents; this run makes every challenge up front, so every push presented after the wipe paid a challenge issued before it, where a real payer's window is the seconds between its 402 and its payment`,
      },
      {
        name: 'delivered in full as the client walked away',
        count: deliveredAfterAbort.length,
        why: "the client's abort timer fired after the gateway had written the whole 2xx (ledger: state served, every byte sent); the retry is then a replay of a served credential and gets 402",
      },
      {
        name: 'pull first presented after its challenge expired',
        count: expiredBeforeUse.length,
        why: 'payment-expired for a transaction never sent: the run outlasted challengeTtl',
      },
    ],
    byKind,
    finalAnswers,
    ledger,
    perFault,
    unfinishedLogLines: evidence.unfinishedLogLines,
  }
}

function gate(name: string, items: string[]): Gate {
  return { name, count: items.length, examples: items.slice(0, 5) }
}

/** The answers a credential got, in order (the first few and the last). */
function kindCounts(kinds: readonly string[]): string {
  const counts = new Map<string, number>()
  for (const kind of kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1)
  return [...counts].map(([kind, n]) => `${kind} ${n}`).join(', ') || 'none'
}

function ledgerLine(entry: Record<string, string> | undefined): string {
  if (!entry) return 'no entry'
  return `${entry.state ?? '?'}/${entry.outcome ?? '?'} ${entry.upstreamStatus ?? '?'} ${entry.bytesSent ?? '?'}/${entry.bytesExpected ?? '?'} bytes`
}

/** The ledger says the gateway wrote the whole 2xx to the client's socket. */
function deliveredInFull(entry: Record<string, string> | undefined): boolean {
  if (entry?.state !== 'served' || entry.outcome !== 'served') return false
  return entry.bytesExpected === undefined || entry.bytesSent === entry.bytesExpected
}

function answers(run: CredentialRun): string {
  const all = run.attempts.map((a) => (a.role === 'present' ? answerClass(a) : `${a.role} ${answerClass(a)}`))
  const shown = all.length > 6 ? [...all.slice(0, 4), '…', ...all.slice(-2)] : all
  return shown.join(' → ')
}

function lastAnswer(run: CredentialRun): string {
  const last = run.last ?? run.attempts.at(-1)
  return last ? answerClass(last) : 'no attempt'
}
