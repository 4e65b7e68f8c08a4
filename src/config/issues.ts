import { z } from 'zod'

/** One problem found in the config, at a key path such as `methods.stripe.secretKey`. */
export interface Issue {
  readonly path: string
  readonly problem: string
  /** false for problems with the key itself, where a note about its value's variables is noise */
  readonly aboutValue: boolean
}

/** `a.b`, `a[0]`, `a["odd key"]`: the key path as messages spell it. */
export function joinPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`
  const part = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : JSON.stringify(key)
  if (!path) return part
  return part.startsWith('"') ? `${path}[${part}]` : `${path}.${part}`
}

/** What a value is, for "got ..." in a message: never the value itself, which may be a secret. */
export function kind(value: unknown): string {
  if (value === null || value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'a list'
  // a YAML mapping, as a Map or as the plain object toPlain makes of it
  if (value instanceof Map || Object.getPrototypeOf(value) === Object.prototype) return 'a mapping'
  if (typeof value === 'number' || typeof value === 'bigint') return 'a number'
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'value'}`
  return `a ${typeof value}`
}

/** A value quoted for a message, cut short so one bad line cannot flood the output. */
export function show(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text)
}

/** The shortest exact spelling of a duration: 3_600_000 → "1h", 1500 → "1500ms". */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

/** "environment variable X is not set", for one name or several. */
export function notSet(names: readonly string[]): string {
  return names.length === 1
    ? `environment variable ${names[0]} is not set`
    : `environment variables ${names.join(', ')} are not set`
}

/** The "unknown key" problem, with the closest known key when the unknown one looks like a typo of it. */
export function unknownKey(key: string, known: readonly string[]): string {
  const close = suggest(key, known)
  return close ? `unknown key (did you mean "${close}"?)` : `unknown key (known keys: ${known.join(', ')})`
}

/**
 * A parsed YAML value (Maps keyed by string) as the plain objects a zod schema reads; YAML null
 * (`key:` with nothing after it) counts as absent, as everywhere else in the config.
 */
export function toPlain(value: unknown): unknown {
  if (value === null) return undefined
  // a null item of a list stays null: it is "nothing", not absent
  if (Array.isArray(value)) return value.map((item) => (item === null ? null : toPlain(item)))
  if (value instanceof Map) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of value) {
      const plain = toPlain(item)
      if (plain !== undefined) out[String(key)] = plain
    }
    return out
  }
  return value
}

/** Zod's type names as the config messages say them. */
const EXPECTED: Readonly<Record<string, string>> = {
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
  array: 'a list',
  tuple: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  bigint: 'a number',
  boolean: 'true or false',
}

/**
 * Checks `value` (parsed YAML at key path `at`) against a zod schema, and turns what zod found into
 * the loader's issues: every one at once, unknown keys with a did-you-mean, values never echoed.
 * Refinements should phrase their own messages as the rest of the config does ("is empty", ...).
 */
export function checkSchema<T>(
  schema: z.ZodType<T>,
  value: unknown,
  at: string,
): { ok: true; data: T } | { ok: false; issues: Issue[] } {
  const parsed = schema.safeParse(toPlain(value), { reportInput: true })
  if (parsed.success) return { ok: true, data: parsed.data }
  // unknown keys first, as the loader reports them before the values of a block
  const sorted = [...parsed.error.issues].sort(
    (a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'),
  )
  const issues = sorted.flatMap((issue): Issue[] => {
    const path = issue.path.reduce<string>((sum, key) => joinPath(sum, typeof key === 'symbol' ? String(key) : key), at)
    if (issue.code === 'unrecognized_keys') {
      const known = objectKeys(schema, issue.path)
      return issue.keys.map((key) => ({
        path: joinPath(path, key),
        problem: unknownKey(key, known),
        aboutValue: false,
      }))
    }
    if (issue.code === 'invalid_type') {
      const expected = EXPECTED[issue.expected] ?? issue.expected
      const problem = issue.input === undefined ? 'is required' : `must be ${expected} (got ${kind(issue.input)})`
      return [{ path, problem, aboutValue: true }]
    }
    // a check about a key rather than its value (an unknown key inside a transform) says so in its params
    const aboutValue = !(issue.code === 'custom' && issue.params?.aboutValue === false)
    return [{ path, problem: issue.message, aboutValue }]
  })
  return { ok: false, issues }
}

/**
 * Parses `value` with `schema` inside another schema's transform, adding its issues to `ctx` (paths
 * relative to the value): for a block whose shape depends on the value, such as `watch: true` or
 * `watch: { poll }`. Unknown keys come first, with their did-you-mean, as checkSchema gives them.
 */
export function nested<T>(schema: z.ZodType<T>, value: unknown, ctx: z.RefinementCtx): T | undefined {
  const parsed = schema.safeParse(value, { reportInput: true })
  if (parsed.success) return parsed.data
  const sorted = [...parsed.error.issues].sort(
    (a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'),
  )
  for (const issue of sorted) {
    if (issue.code !== 'unrecognized_keys') ctx.addIssue(issue as never)
    else {
      const known = objectKeys(schema, issue.path)
      for (const key of issue.keys)
        ctx.addIssue({
          code: 'custom',
          path: [...issue.path, key],
          message: unknownKey(key, known),
          params: { aboutValue: false },
        })
    }
  }
  return undefined
}

/** The keys an object schema needs, in its order: "must be a mapping with at least secretKey and networkId". */
export function requiredKeys(schema: z.ZodType): string[] {
  const object = unwrapSchema(schema)
  if (!(object instanceof z.ZodObject)) return []
  return (
    Object.entries(object.shape as Record<string, z.ZodType>)
      // required: what an absent value does not pass
      .filter(([, field]) => !field.safeParse(undefined).success)
      .map(([key]) => key)
  )
}

/** The keys an object schema knows at a path inside `schema`, for did-you-mean. */
function objectKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let at: z.ZodType | undefined = schema
  for (const key of path) {
    at = unwrapSchema(at)
    if (at instanceof z.ZodObject) at = (at.shape as Record<string, z.ZodType>)[String(key)]
    else if (at instanceof z.ZodArray) at = at.element as z.ZodType
    else return []
  }
  at = unwrapSchema(at)
  return at instanceof z.ZodObject ? Object.keys(at.shape) : []
}

/** An object schema under its optional, default and transform wrappers. */
export function unwrapSchema(schema: z.ZodType | undefined): z.ZodType | undefined {
  let at = schema
  while (at instanceof z.ZodOptional || at instanceof z.ZodDefault || at instanceof z.ZodPipe) {
    at = at instanceof z.ZodPipe ? (at.in as z.ZodType) : (at.unwrap() as z.ZodType)
  }
  return at
}

/** The closest known key, when the unknown one looks like a typo of it. */
export function suggest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}
