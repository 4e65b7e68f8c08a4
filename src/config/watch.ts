import { type FSWatcher, watch } from 'node:fs'
import { basename, dirname } from 'node:path'

/**
 * Calls `onChange` (debounced) when the config file may have changed. It watches the directory,
 * not the file: editors save by renaming a new file over the old one, and Kubernetes updates a
 * mounted ConfigMap by swapping a `..data` symlink, and a watch on the old file sees neither.
 * Spurious calls are fine: the caller compares the file's hash before acting.
 */
export function watchConfigFile(file: string, onChange: () => void, debounceMs = 300): { close(): void } {
  const name = basename(file)
  let timer: NodeJS.Timeout | undefined
  let watcher: FSWatcher | undefined
  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name && !changed.startsWith('..')) return
      clearTimeout(timer)
      timer = setTimeout(onChange, debounceMs)
    })
    watcher.on('error', () => watcher?.close())
  } catch {
    // A directory that cannot be watched leaves SIGHUP as the way to reload.
    watcher = undefined
  }
  return {
    close() {
      clearTimeout(timer)
      watcher?.close()
    },
  }
}
