import { createMemoryStore } from './memory.js'
import { createRedisStore } from './redis.js'
import type { ReplayStore } from './types.js'

/** The configured store: Redis when `store.url` is set, else the single-instance memory store. */
export function createStore(config: { url?: string; keyPrefix: string }): ReplayStore {
  return config.url ? createRedisStore({ url: config.url, keyPrefix: config.keyPrefix }) : createMemoryStore()
}
