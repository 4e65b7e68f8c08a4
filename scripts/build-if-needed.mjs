// `npm start` runs the compiled gateway; this compiles first when dist/ is missing or older than src/.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const entry = 'dist/cli/main.js'

function newestSource(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs)
  }
  return newest
}

const stale =
  !existsSync(entry) || statSync(entry).mtimeMs < Math.max(newestSource('src'), statSync('package.json').mtimeMs)
if (stale) {
  console.error('mpp-gateway: building (npm run build)...')
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' })
}
