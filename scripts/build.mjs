// `npm run build`: compile src/ to dist/, and make the CLI entry executable. tsc writes its files
// 0644, and `npx mpp-gateway` in a checkout runs dist/cli/main.js itself (the package's own bin).
import { execFileSync } from 'node:child_process'
import { chmodSync } from 'node:fs'

execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
chmodSync('dist/cli/main.js', 0o755)
