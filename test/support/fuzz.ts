/**
 * fast-check generators shared by the protocol property tests (src/protocol/*.fuzz.test.ts): header text
 * built from the pieces that matter to the parsers, so random cases reach their branches.
 */
import fc from 'fast-check'

/** Printable ASCII plus tab: what a challenge parameter value may hold on the wire. */
export const headerText = (options: { minLength?: number; maxLength?: number } = {}) =>
  fc.string({
    unit: fc.oneof(
      fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      fc.constant('\t'),
    ),
    ...options,
  })

/** An RFC 9110 token: a scheme or parameter name. */
export const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/)

/** Field values made of schemes, tokens, separators, quotes, escapes and arbitrary characters. */
export const authFieldValue = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'Payment',
        'payment',
        'Bearer',
        'Basic',
        ' ',
        '\t',
        ',',
        ', ',
        '"',
        '\\',
        '\\"',
        '=',
        '==',
        'id=',
        'realm=',
        'request=',
        'opaque=',
        '\\u00e9',
        '\\uZZ',
        'eyJ',
      ),
      token,
      headerText({ maxLength: 12 }),
      fc.string({ unit: 'binary', maxLength: 4 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''))

/** Pathological inputs for a time bound: long runs of the characters the parsers branch on. */
export const longRuns = fc
  .tuple(
    fc.constantFrom('"', '\\', ',', '=', ' ', 'a', 'a=', 'Payment ', '"\\', 'a="'),
    fc.integer({ min: 10_000, max: 40_000 }),
  )
  .map(([unit, count]) => unit.repeat(count))
