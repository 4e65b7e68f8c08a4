import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { describe, expect, it } from 'vitest'
import { configKeyPaths } from '../src/config/keys.js'

// The README is a front page; the reference lives in docs/. These hold the layers to their promises.
const LAYERS = [
  'README.md',
  'CONTRIBUTING.md',
  'docs/configuration.md',
  'docs/clients.md',
  'docs/operations.md',
  'docs/security.md',
  'docs/hono.md',
]
const read = (path: string) => readFileSync(path, 'utf8')

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(text: string): Set<string> {
  const found = new Set<string>()
  for (const [, heading] of text.matchAll(/^#+ (.*)$/gm))
    found.add(
      heading!
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replaceAll(' ', '-'),
    )
  for (const [, id] of text.matchAll(/<a id="([^"]+)"/g)) found.add(id!)
  return found
}

describe('documentation', () => {
  it('documents every config key the loader accepts in docs/configuration.md', () => {
    const doc = read('docs/configuration.md')
    const missing = configKeyPaths().filter((path) => !doc.includes(`\`${path}\``))
    expect(missing).toEqual([])
    expect(configKeyPaths()).toContain('methods.tempo.feePayer.maxInFlight')
    expect(configKeyPaths()).toContain('routes[].splits[].memo')
  })

  it('keeps the README a front page under 8 KB', () => {
    expect(Buffer.byteLength(read('README.md'))).toBeLessThan(8 * 1024)
  })

  it.each(LAYERS)('%s has no line over 120 characters', (path) => {
    const long = read(path)
      .split('\n')
      .filter((line) => [...line].length > 120)
    expect(long).toEqual([])
  })

  it.each(LAYERS.filter((path) => path !== 'README.md'))('%s opens with a table of contents', (path) => {
    expect(read(path)).toMatch(/^# .+\n\n[^#]+\n## Contents\n\n- \[/)
  })

  it.each(LAYERS)('%s links only to files and headings that exist', (path) => {
    const broken: string[] = []
    for (const [, link] of read(path).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(link!)) continue
      const [file, fragment] = link!.split('#') as [string, string | undefined]
      const target = file === '' ? path : normalize(join(dirname(path), file))
      if (!existsSync(target)) broken.push(link!)
      else if (fragment && target.endsWith('.md') && !anchors(read(target)).has(fragment)) broken.push(link!)
    }
    expect(broken).toEqual([])
  })
})
