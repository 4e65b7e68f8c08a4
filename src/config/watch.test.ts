import { linkSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { watchConfigFile } from './watch.js'

const dirs: string[] = []
const watchers: Array<{ close(): void }> = []
afterEach(() => {
  for (const watcher of watchers.splice(0)) watcher.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/**
 * A single-file bind mount, as docker -v host.yaml:/etc/…/gateway.config.yaml makes it: the
 * gateway's path and the host's are two names of one inode in different directories, so an edit
 * through the host's name sends the gateway's directory no event. A hard link does the same here.
 */
function bindMounted(): { watched: string; host: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mppgw-watch-'))
  dirs.push(dir)
  mkdirSync(join(dir, 'etc'))
  mkdirSync(join(dir, 'host'))
  const host = join(dir, 'host', 'gateway.config.yaml')
  writeFileSync(host, 'realm: a\n')
  const watched = join(dir, 'etc', 'gateway.config.yaml')
  linkSync(host, watched)
  return { watched, host }
}

function counter(): { calls: () => number; onChange: () => void } {
  let n = 0
  return { calls: () => n, onChange: () => n++ }
}

describe('watchConfigFile', () => {
  it('sees an in-place edit of a single-file bind mount (events on the file, none on its directory)', async () => {
    const { watched, host } = bindMounted()
    const { calls, onChange } = counter()
    watchers.push(watchConfigFile(watched, onChange, { debounceMs: 20 }))
    writeFileSync(host, 'realm: b\n')
    await expect.poll(calls, { timeout: 3000, interval: 50 }).toBeGreaterThanOrEqual(1)
  })

  it("with poll, sees the edit by the file's stat, and stops on close", async () => {
    const { watched, host } = bindMounted()
    const { calls, onChange } = counter()
    const watcher = watchConfigFile(watched, onChange, { debounceMs: 20, pollMs: 100 })
    watchers.push(watcher)
    writeFileSync(host, 'realm: longer value\n')
    await expect.poll(calls, { timeout: 3000, interval: 50 }).toBeGreaterThanOrEqual(1)
    watcher.close()
    const seen = calls()
    writeFileSync(host, 'realm: c\n')
    await new Promise((r) => setTimeout(r, 400))
    expect(calls()).toBe(seen)
  })

  it('keeps seeing edits after an editor renames a new file over the watched one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mppgw-watch-'))
    dirs.push(dir)
    const file = join(dir, 'gateway.config.yaml')
    writeFileSync(file, 'realm: a\n')
    const { calls, onChange } = counter()
    watchers.push(watchConfigFile(file, onChange, { debounceMs: 20 }))
    writeFileSync(join(dir, '.gateway.config.yaml.swp'), 'realm: b\n')
    renameSync(join(dir, '.gateway.config.yaml.swp'), file)
    await expect.poll(calls, { timeout: 3000, interval: 50 }).toBeGreaterThanOrEqual(1)
    const after = calls()
    writeFileSync(file, 'realm: c\n')
    await expect.poll(calls, { timeout: 3000, interval: 50 }).toBeGreaterThan(after)
  })
})
