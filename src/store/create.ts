import { createMemoryStore } from './memory.js'
import { createRedisStore } from './redis.js'
import type { StoreBundle } from './ports.js'

/** The configured store: Redis when `store.url` is set, else the single-instance memory store. */
export function createStore(config: { url?: string; keyPrefix: string }): StoreBundle {
  return config.url ? createRedisStore({ url: config.url, keyPrefix: config.keyPrefix }) : createMemoryStore()
}
