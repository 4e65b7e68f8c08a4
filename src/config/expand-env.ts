const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Expands `${VAR}` and `${VAR:-default}` (default when VAR is unset or empty, as in the shell) and
 * `$$` (a literal `$`). A lone `$` followed by anything else stays as written. Unset variables
 * without a default expand to "" and are listed in `missing` so the caller can say why a value is
 * empty. Error messages give positions, never text, because the value may be a secret.
 */
export function expandEnv(text: string, env: Record<string, string | undefined>): { value: string; missing: string[] } {
  let value = ''
  const missing: string[] = []
  let i = 0
  while (i < text.length) {
    const dollar = text.indexOf('$', i)
    if (dollar === -1) {
      value += text.slice(i)
      break
    }
    value += text.slice(i, dollar)
    const next = text[dollar + 1]
    if (next === '$') {
      value += '$'
      i = dollar + 2
      continue
    }
    if (next !== '{') {
      value += '$'
      i = dollar + 1
      continue
    }
    const close = text.indexOf('}', dollar + 2)
    const at = `at character ${dollar + 1}`
    if (close === -1) throw new Error(`unclosed "\${" ${at} (write "$$" for a literal "$")`)
    const body = text.slice(dollar + 2, close)
    const sep = body.indexOf(':-')
    const name = sep === -1 ? body : body.slice(0, sep)
    if (!NAME.test(name)) {
      throw new Error(
        `invalid variable reference ${at}: expected \${NAME} or \${NAME:-default}, NAME made of letters, digits and "_"`,
      )
    }
    const fallback = sep === -1 ? undefined : body.slice(sep + 2)
    if (fallback?.includes('${')) throw new Error(`nested "\${" in a default ${at} is not supported`)
    const set = env[name]
    if (set !== undefined && (set !== '' || fallback === undefined)) value += set
    else if (fallback !== undefined) value += fallback
    else if (!missing.includes(name)) missing.push(name)
    i = close + 1
  }
  return { value, missing }
}
