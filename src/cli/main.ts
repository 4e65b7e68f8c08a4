#!/usr/bin/env node
import cluster from 'node:cluster'
import { readFileSync } from 'node:fs'
import { parseCommandLine } from './args.js'
import { runCheck } from './check.js'
import { commandHelp, overview } from './commands.js'
import { runHealthcheck } from './healthcheck.js'
import { runPay, UsageError } from './pay.js'
import { runPayments } from './payments.js'
import { serve } from './serve.js'

/** Exit codes (documented in `help`): 0 ok, 1 config error or failure, 2 usage error. */
async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv)
  if (parsed.kind === 'usage-error') {
    const hint = parsed.command ? `mpp-gateway help ${parsed.command.name}` : 'mpp-gateway help'
    process.stderr.write(`mpp-gateway: ${parsed.message}\nRun "${hint}" for the usage.\n`)
    return 2
  }
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.command ? commandHelp(parsed.command) : overview())
    return 0
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`mpp-gateway ${version()}\n`)
    return 0
  }
  const { command, values } = parsed
  const config = String(values.config)
  if (command.name === 'check') return runCheck(config, process.stdout)
  if (command.name === 'healthcheck') return runHealthcheck(config, process.stdout)
  const flag = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined)
  if (command.name === 'payments') {
    return runPayments(
      {
        config,
        ...(flag('route') !== undefined && { route: flag('route')! }),
        ...(flag('since') !== undefined && { since: flag('since')! }),
        ...(flag('limit') !== undefined && { limit: flag('limit')! }),
        json: values.json === true,
        tty: process.stdout.isTTY === true,
      },
      process.stdout,
      process.stderr,
    ).catch((error: Error) => {
      if (!(error instanceof UsageError)) throw error
      process.stderr.write(`mpp-gateway payments: ${error.message}\n`)
      return 2
    })
  }
  if (command.name === 'pay') {
    return runPay(
      {
        url: parsed.positionals[0]!,
        method: flag('method'),
        request: flag('request'),
        data: flag('data'),
        headers: (values.header as string[] | undefined) ?? [],
        sandbox: values.sandbox === true,
      },
      process.stdout,
    ).catch((error: Error) => {
      process.stderr.write(`mpp-gateway pay: ${error.message}\n`)
      return error instanceof UsageError ? 2 : 1
    })
  }
  return serve(config, { sandbox: values.sandbox === true })
}

function version(): string {
  // package.json sits beside dist/ (and src/) in a checkout, an npm install and the image.
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
    .version
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
