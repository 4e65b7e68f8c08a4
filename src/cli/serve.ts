import cluster from 'node:cluster'
import { startGateway } from '../app/server.js'
import { loadConfig } from '../config/load.js'
import { createLogger } from '../log/logger.js'
import { runPrimary } from './workers.js'

/** `mpp-gateway serve`: runs until SIGTERM/SIGINT (drain, exit 0); 1 when the config or the start fails. */
export async function serve(file: string): Promise<number> {
  const loaded = await loadConfig(file)
  if (!loaded.ok) {
    for (const error of loaded.errors) process.stderr.write(`${error}\n`)
    return 1
  }
  const worker = cluster.isWorker ? cluster.worker?.id : undefined
  const logger = createLogger({ level: loaded.config.logLevel, ...(worker !== undefined ? { base: { worker } } : {}) })
  // With workers, the primary has said it once already.
  if (worker === undefined) for (const warning of loaded.warnings) logger.warn(warning)
  if (loaded.config.workers > 1 && cluster.isPrimary) return runPrimary(loaded.config.workers, logger)
  const gateway = await startGateway(loaded.config, { logger, hash: loaded.hash }).catch((error: Error) => {
    process.stderr.write(`${error.message}\n`)
    return undefined
  })
  if (!gateway) return 1
  // SIGHUP reloads, as nginx and Envoy operators expect; the file is also watched (config.watch).
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading the config')
    void gateway.reload()
  })
  await new Promise<void>((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      // A worker gets Ctrl-C's SIGINT from the terminal and SIGTERM from its primary: drain once.
      if (stopping) return
      stopping = true
      logger.info('shutting down', { signal })
      void gateway.drain().then(resolve)
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
  return 0
}
