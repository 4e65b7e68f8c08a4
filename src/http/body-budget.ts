/**
 * The gateway-wide budget of request-body bytes held in memory (`limits.bufferedBytes`). Every
 * buffered body reserves its bytes here before it grows and gives them back once its request is
 * done, so a crowd of slow or stalled uploads can hold at most the budget, not Node's 300 s worth.
 */
export interface BodyBudget {
  /** Takes `bytes` from the budget; false (and nothing taken) when they do not fit. */
  reserve(bytes: number): boolean
  /** Gives back bytes taken earlier. */
  release(bytes: number): void
  /** bytes reserved right now */
  readonly used: number
  readonly limit: number
}

export function createBodyBudget(limit: number): BodyBudget {
  let used = 0
  return {
    reserve(bytes) {
      if (bytes <= 0) return true
      if (used + bytes > limit) return false
      used += bytes
      return true
    },
    release(bytes) {
      // never below zero: a double release must not hand out more than the limit later
      used = Math.max(0, used - Math.max(0, bytes))
    },
    get used() {
      return used
    },
    limit,
  }
}
