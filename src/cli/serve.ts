import cluster from 'node:cluster'
import { startGateway } from '../server/server.js'
import { loadConfig, type RuntimeOptions } from '../config/load.js'
import { createLogger, type Logger } from '../log/logger.js'
import { runPrimary, WORKER_STARTED } from '../server/workers.js'

interface Started {
  readonly runtime: RuntimeOptions
  close(): Promise<void>
}

/**
 * `mpp-gateway serve`: runs until SIGTERM/SIGINT (drain, exit 0); 1 when the config or the start fails.
 * `sandbox`: the local Stripe and Tempo stand-ins run beside it and the methods point at them.
 */
export async function serve(file: string, options: { sandbox?: boolean } = {}): Promise<number> {
  const first = await loadConfig(file)
  if (!first.ok) return fail(first.errors)
  const worker = cluster.isWorker ? cluster.worker?.id : undefined
  const logger = createLogger({ level: first.config.logLevel, ...(worker !== undefined ? { base: { worker } } : {}) })
  if (options.sandbox && first.config.workers > 1)
    return fail([`${first.config.displayName}: workers: --sandbox runs one gateway process; set workers: 1`])
  // The primary of workers: N serves nothing; each worker runs this again (and its own example API).
  if (first.config.workers > 1 && cluster.isPrimary) {
    for (const warning of first.warnings) logger.warn(warning)
    return runPrimary(first.config.workers, logger)
  }

  const extras: Array<() => Promise<void>> = []
  const closeExtras = () => Promise.all(extras.map((close) => close())).then(() => undefined)
  let runtime: RuntimeOptions = {}
  try {
    if (options.sandbox) {
      const sandbox = await startSandbox(logger)
      extras.push(sandbox.close)
      runtime = { ...runtime, ...sandbox.runtime }
    }
    if (first.config.upstream.example) {
      const api = await startExample(logger)
      extras.push(api.close)
      runtime = { ...runtime, ...api.runtime }
    }
  } catch (error) {
    await closeExtras()
    return fail([(error as Error).message])
  }

  // Read again with what now runs (the example API's URL, the sandbox's endpoints); reloads do the same.
  const loaded = Object.keys(runtime).length > 0 ? await loadConfig(file, runtime) : first
  if (!loaded.ok) {
    await closeExtras()
    return fail(loaded.errors)
  }
  // With workers, the primary has said it once already.
  if (worker === undefined) for (const warning of loaded.warnings) logger.warn(warning)
  const gateway = await startGateway(loaded.config, { logger, hash: loaded.hash, runtime }).catch((error: Error) => {
    process.stderr.write(`${error.message}\n`)
    return undefined
  })
  if (!gateway) {
    await closeExtras()
    return 1
  }
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
  await closeExtras()
  return 0
}

function fail(errors: readonly string[]): number {
  for (const error of errors) process.stderr.write(`${error}\n`)
  return 1
}

/** The bundled example API (`upstream.url: "example"`), on a free local port. */
async function startExample(logger: Logger): Promise<Started> {
  // Loaded only here: a production config never runs it. The file sits beside dist/ and src/.
  const module = (await import(
    new URL('../../examples/upstream/server.mjs', import.meta.url).href
  )) as typeof import('../../examples/upstream/server.mjs')
  const api = await module.startExampleApi({ port: 0, host: '127.0.0.1' })
  logger.warn(
    'upstream: running the bundled example API (examples/upstream/server.mjs); set UPSTREAM_URL or upstream.url to put your own API behind the gateway',
    { upstream: api.url },
  )
  return { runtime: { exampleUpstream: api.url }, close: api.close }
}

async function startSandbox(logger: Logger): Promise<Started> {
  const { sandboxPorts } = await import('../sandbox/config.js')
  const { startSandbox: start } = await import('../sandbox/start.js')
  const sandbox = await start(sandboxPorts())
  logger.warn('sandbox: local Stripe and Tempo stand-ins; the methods point at them, no real payment is possible', {
    stripe: sandbox.endpoints.stripeApiBase,
    tempo: sandbox.endpoints.tempoRpcUrl,
    payer: sandbox.payer,
    try: 'npx mpp-gateway pay --sandbox URL',
  })
  return { runtime: { sandbox: sandbox.endpoints }, close: sandbox.close }
}
