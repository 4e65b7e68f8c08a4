import { loadConfig } from '../config/load.js'

const TIMEOUT_MS = 3000

/** The address to probe for a `listen` host: a wildcard is probed on loopback. */
export function probeUrl(listen: { host: string; port: number }): string {
  const host =
    listen.host === '0.0.0.0' || listen.host === ''
      ? '127.0.0.1'
      : listen.host === '::'
        ? '[::1]'
        : listen.host.includes(':')
          ? `[${listen.host}]`
          : listen.host
  return `http://${host}:${listen.port}/__gateway/healthz`
}

/** `mpp-gateway healthcheck`: 0 when the gateway at the config's `listen` answers healthz with 200. */
export async function runHealthcheck(file: string, out: { write(text: string): unknown }): Promise<number> {
  const loaded = await loadConfig(file)
  if (!loaded.ok) {
    for (const error of loaded.errors) out.write(`${error}\n`)
    return 1
  }
  const url = probeUrl(loaded.config.listen)
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) })
    out.write(`${url}: ${response.status}\n`)
    await response.body?.cancel()
    return response.status === 200 ? 0 : 1
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code
    out.write(`${url}: ${cause ?? (error as Error).message}\n`)
    return 1
  }
}
