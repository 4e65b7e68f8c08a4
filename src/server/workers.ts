import cluster, { type Worker } from 'node:cluster'
import type { Logger } from '../log/logger.js'

/** What a worker sends its primary once its gateway listens on every port (public and admin). */
export const WORKER_STARTED = 'mpp-gateway:worker-started'

/**
 * The primary of `workers: N`: forks N gateway processes that share the listening port (the
 * primary hands out connections round-robin) and serves nothing itself. SIGHUP is passed on, so
 * every worker reloads; SIGTERM/SIGINT drain every worker, and the primary exits 0 once all have
 * exited cleanly. A worker that dies while serving is replaced; one that fails before it listens
 * (a bad port, an unreachable dependency at start) stops the whole gateway, not a fork loop.
 */
export async function runPrimary(count: number, logger: Logger): Promise<number> {
  let stopping = false
  const workers = new Set<Worker>()
  let failed = false
  let resolveDone!: (code: number) => void
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve
  })

  const fork = () => {
    const worker = cluster.fork()
    let listening = false
    workers.add(worker)
    // Not cluster's 'listening': that fires for the first port a worker binds (the admin one), and
    // a worker that then fails on the public port would be re-forked forever.
    worker.on('message', (message: unknown) => {
      if (message === WORKER_STARTED) listening = true
    })
    worker.once('exit', (code, signal) => {
      workers.delete(worker)
      const clean = code === 0
      if (!stopping) {
        if (listening) {
          logger.error('worker died; starting another', { workerPid: worker.process.pid, code, signal })
          fork()
          return
        }
        logger.error('worker failed to start; stopping the gateway', { workerPid: worker.process.pid, code, signal })
        failed = true
        stop('worker failure')
      } else if (!clean) {
        failed = true
      }
      if (workers.size === 0) resolveDone(failed ? 1 : 0)
    })
  }

  function stop(reason: string): void {
    if (stopping) return
    stopping = true
    logger.info('stopping workers', { reason, workers: workers.size })
    for (const worker of workers) worker.process.kill('SIGTERM')
    if (workers.size === 0) resolveDone(failed ? 1 : 0)
  }

  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading the config in every worker')
    for (const worker of workers) worker.process.kill('SIGHUP')
  })
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))

  for (let i = 0; i < count; i++) fork()
  logger.info('workers started', { workers: count, primaryPid: process.pid })
  return done
}
