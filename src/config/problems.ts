import type { z } from 'zod'
import type { Finding } from './cross-checks.js'
import { checkSchema, type Issue, notSet } from './issues.js'

/**
 * What loading a config found, gathered as it goes so every problem is reported at once, in the
 * file's order: the errors, the warnings, and the variables each string referenced.
 */
export interface Problems {
  readonly issues: Issue[]
  /** things worth a warning that are not errors, by key path */
  readonly notices: Array<{ path: string; message: string }>
  /** unset environment variables, by the key path of the string that referenced them */
  readonly missing: Map<string, string[]>
  /** the text as written, before expansion, of every string that references a variable */
  readonly written: Map<string, string>
}

export function newProblems(): Problems {
  return { issues: [], notices: [], missing: new Map(), written: new Map() }
}

/** Records a problem; returns undefined so a reader can `return fail(...)` for its missing value. */
export function fail(problems: Problems, path: string, problem: string, aboutValue = true): undefined {
  problems.issues.push({ path, problem, aboutValue })
  return undefined
}

export function notice(problems: Problems, path: string, message: string): void {
  problems.notices.push({ path, message })
}

/** A part checked by its zod schema: what it parses to, or `fallback` after its problems join the others. */
export function section<T, F>(
  problems: Problems,
  schema: z.ZodType<T>,
  value: unknown,
  path: string,
  fallback: F,
): T | F {
  const checked = checkSchema(schema, value, path)
  if (checked.ok) return checked.data
  const reported = new Set(problems.issues.map((issue) => issue.path))
  // a value whose `${...}` was already reported is checked no further
  for (const issue of checked.issues) if (!reported.has(issue.path)) problems.issues.push(issue)
  return fallback
}

/** The findings of a check across parts: problems join the errors, notices the warnings; false if any was a problem. */
export function found(problems: Problems, findings: readonly Finding[]): boolean {
  let ok = true
  for (const finding of findings) {
    if ('problem' in finding) ok = fail(problems, finding.path, finding.problem) ?? false
    else notice(problems, finding.path, finding.notice)
  }
  return ok
}

/** The variables a string at `path` references that are unset or empty, from its text as written. */
export function unsetVariables(problems: Problems, env: Record<string, string | undefined>, path: string): string[] {
  const text = problems.written.get(path)
  if (text === undefined) return []
  const names: string[] = []
  for (const match of text.matchAll(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) {
    const name = match[1]
    if (name !== undefined && !env[name] && !names.includes(name)) names.push(name)
  }
  return names
}

export function errorLines(problems: Problems, displayName: string): string[] {
  return problems.issues.map(({ path, problem, aboutValue }) => {
    const names = aboutValue ? problems.missing.get(path) : undefined
    return `${displayName}: ${path ? `${path}: ` : ''}${problem}${names ? ` (${notSet(names)})` : ''}`
  })
}

/** Unset variables no error or notice already explains, then the notices. */
export function warningLines(problems: Problems, displayName: string): string[] {
  const explained = new Set([...problems.issues, ...problems.notices].map((item) => item.path))
  return [
    ...[...problems.missing]
      .filter(([path]) => !explained.has(path))
      .map(([path, names]) => `${displayName}: ${path}: ${notSet(names)}, so it expands to ""`),
    ...problems.notices.map(({ path, message }) => `${displayName}: ${path}: ${message}`),
  ]
}
