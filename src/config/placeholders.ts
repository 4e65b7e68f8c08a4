/**
 * Values the examples ship where a secret or an account id belongs (`sk_test_replace_me`,
 * `profile_replace_me`, `replace-with-openssl-rand-base64-32-output`, `sk_test_...`, `0x...`).
 * A value copied from them must never be taken for a real one.
 */
const PLACEHOLDER = [/replace[-_ ]?(me|with)/i, /change[-_ ]?me/i, /your[-_ ]?(key|secret|id)/i, /\.\.\.|…/, /^<.*>$/]

export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER.some((pattern) => pattern.test(value))
}
