// Types for server.mjs, so TypeScript callers (scripts/demo.ts) can import it.
import type http from 'node:http'

export interface ExampleApi {
  /** e.g. http://127.0.0.1:3000 */
  readonly url: string
  readonly server: http.Server
  close(): Promise<void>
}

/** Starts the example JSON API; port 0 picks a free one (default 3000 on 0.0.0.0). */
export declare function startExampleApi(options?: { port?: number; host?: string }): Promise<ExampleApi>
