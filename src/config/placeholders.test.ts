import { describe, expect, it } from 'vitest'
import { isPlaceholder } from './placeholders.js'

describe('isPlaceholder', () => {
  it.each([
    'sk_test_replace_me',
    'profile_replace_me',
    'replace-with-openssl-rand-base64-32-output',
    'sk_test_...',
    'profile_...',
    '0x...',
    'changeme',
    '<your key>',
    'CHANGE_ME',
  ])('%s is a placeholder', (value) => expect(isPlaceholder(value)).toBe(true))

  it.each([
    'sk_test_51Hunter2SuperSecretValue',
    'profile_61RPdFXKxzj2vKbNG',
    'x'.repeat(40),
    'dGVzdC1zZWNyZXQta2V5LTAxMjM0NTY3ODktYWJjZGVm',
    'rk_live_abc',
  ])('%s is not', (value) => expect(isPlaceholder(value)).toBe(false))
})
