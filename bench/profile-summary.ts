// Summarizes a V8 .cpuprofile (from `npm run bench -- --profile DIR`): self time by function and
// by file, and inclusive time of the gateway's own functions.
//   node --import tsx bench/profile-summary.ts DIR/CPU.*.cpuprofile [top]
import { readFileSync } from 'node:fs'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount: number
  children?: number[]
}
const profile = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as {
  nodes: Node[]
  samples: number[]
  timeDeltas: number[]
}
const top = Number(process.argv[3] ?? 25)
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const self = new Map<number, number>()
for (const [i, id] of profile.samples.entries()) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
const total = [...self.values()].reduce((a, b) => a + b, 0)
const short = (url: string) => url.replace(/^file:\/\/\/work\/[^/]+\//, '').replace(/^node:/, 'node:')
const label = (n: Node) =>
  `${n.callFrame.functionName || '(anon)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`

const selfBy = new Map<string, number>()
const fileBy = new Map<string, number>()
const inclusive = new Map<string, number>()
for (const [id, us] of self) {
  const n = byId.get(id)!
  selfBy.set(label(n), (selfBy.get(label(n)) ?? 0) + us)
  const file = short(n.callFrame.url) || n.callFrame.functionName
  fileBy.set(file, (fileBy.get(file) ?? 0) + us)
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const key = label(byId.get(at)!)
    if (seen.has(key)) continue
    seen.add(key)
    inclusive.set(key, (inclusive.get(key) ?? 0) + us)
  }
}
const print = (title: string, map: Map<string, number>, filter: (k: string) => boolean = () => true) => {
  console.log(`\n${title}`)
  for (const [k, us] of [...map]
    .filter(([k]) => filter(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${k}`)
}
console.log(`total ${(total / 1e6).toFixed(1)} s sampled`)
print('self time by function', selfBy)
print('self time by file', fileBy)
print('inclusive time, gateway code (dist/)', inclusive, (k) => k.includes('dist/'))
