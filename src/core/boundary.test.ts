import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const dir = import.meta.dirname
const modules = readdirSync(dir).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))

describe('the payment core stays transport-neutral', () => {
  it.each(modules)('%s imports no node:http, stream, net or Web Request/Response, and names no method', (name) => {
    const source = readFileSync(join(dir, name), 'utf8')
    const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]!)
    expect(imports.filter((path) => /^node:(http|https|http2|stream|net)(\/|$)/.test(path))).toEqual([])
    expect(imports.filter((path) => /\/(app|http|hono|methods\/(stripe|tempo))\//.test(path))).toEqual([])
    expect(source).not.toMatch(/\bnew (Request|Response|Headers)\(/)
    expect(source).not.toMatch(/'(stripe|tempo)'/)
  })
})
