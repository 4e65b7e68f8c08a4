import { type FSWatcher, type Stats, unwatchFile, watch, watchFile } from 'node:fs'
import { basename, dirname } from 'node:path'

export interface WatchOptions {
  readonly debounceMs?: number
  /** also compare the file's stat this often (fs.watchFile): for mounts that deliver no events */
  readonly pollMs?: number
}

/**
 * Calls `onChange` (debounced) when the config file may have changed. It watches the directory:
 * editors save by renaming a new file over the old one, and Kubernetes updates a mounted ConfigMap
 * by swapping a `..data` symlink, which a watch on the old file misses. It also watches the file
 * itself: a single-file bind mount (docker -v file:file) delivers no events to the directory
 * watcher, only to the file's inode, on in-place edits. Where neither arrives, `pollMs` polls.
 * Spurious calls are fine: the caller compares the file's hash before acting.
 */
export function watchConfigFile(file: string, onChange: () => void, options: WatchOptions = {}): { close(): void } {
  const { debounceMs = 300, pollMs } = options
  const name = basename(file)
  let timer: NodeJS.Timeout | undefined
  let closed = false
  const changed = () => {
    clearTimeout(timer)
    timer = setTimeout(onChange, debounceMs)
  }

  const directory = tryWatch(dirname(file), (_event, entry) => {
    if (entry !== null && entry !== name && !entry.startsWith('..')) return
    changed()
    // A rename over the file leaves the file watcher on the old inode: follow the new one.
    rewatchFile()
  })

  let fileWatcher: FSWatcher | undefined
  function rewatchFile(): void {
    if (closed) return
    fileWatcher?.close()
    fileWatcher = tryWatch(file, (event) => {
      changed()
      if (event === 'rename') setTimeout(rewatchFile, debounceMs).unref()
    })
  }
  rewatchFile()

  const poll = (current: Stats, previous: Stats) => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino)
      changed()
  }
  if (pollMs !== undefined) watchFile(file, { interval: pollMs, persistent: false }, poll)

  return {
    close() {
      closed = true
      clearTimeout(timer)
      directory?.close()
      fileWatcher?.close()
      if (pollMs !== undefined) unwatchFile(file, poll)
    },
  }
}

/** A watcher, or undefined where the path cannot be watched (SIGHUP, or polling, is left). */
function tryWatch(path: string, listener: (event: string, entry: string | null) => void): FSWatcher | undefined {
  try {
    const watcher = watch(path, { persistent: false }, listener)
    watcher.on('error', () => watcher.close())
    return watcher
  } catch {
    return undefined
  }
}
