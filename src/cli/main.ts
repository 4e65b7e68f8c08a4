#!/usr/bin/env node
import cluster from 'node:cluster'
import { parseArgs } from 'node:util'
import { startGateway } from '../app/server.js'
import { loadConfig } from '../config/load.js'
import { createLogger } from '../log/logger.js'
import { runCheck } from './check.js'
import { runPrimary, WORKER_STARTED } from './workers.js'

const USAGE = `Usage:
  mpp-gateway [serve] [--config FILE]   run the gateway (default config: ./gateway.config.yaml)
  mpp-gateway check [--config FILE]     validate the config and print the route table
`

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c', default: 'gateway.config.yaml' }, help: { type: 'boolean', short: 'h' } },
  })
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  const command = positionals[0] ?? 'serve'
  if (command === 'check') return runCheck(values.config, process.stdout)
  if (command !== 'serve') {
    process.stderr.write(`mpp-gateway: unknown command "${command}"\n${USAGE}`)
    return 2
  }
  return serve(values.config)
}

async function serve(file: string): Promise<number> {
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
  // Tell the primary this worker serves: a worker that dies later is replaced, one that never got here is not.
  if (cluster.isWorker) process.send?.(WORKER_STARTED)
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
    // A worker's IPC channel to its primary would keep it alive after the drain.
    if (cluster.isWorker) process.exit(code)
  },
  (error: Error) => {
    process.stderr.write(`mpp-gateway: ${error.message}\n`)
    process.exitCode = 1
  },
)
