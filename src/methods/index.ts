import type { GatewayConfig } from '../config/types.js'
import type { MethodPlugin, MethodServices } from './plugin.js'
import { stripePlugin } from './stripe/plugin.js'
import { tempoPlugin } from './tempo/plugin.js'
import type { PaymentMethod } from '../core/method.js'

export type { MethodContext, MethodPlugin, MethodServices } from './plugin.js'

/** Every payment method the gateway knows: the one place a method is named. */
export const methodPlugins: readonly MethodPlugin[] = [stripePlugin, tempoPlugin]

/** The plugin of a configured method; a name the loader accepted always has one. */
export function pluginFor(name: string, plugins: readonly MethodPlugin[] = methodPlugins): MethodPlugin {
  const plugin = plugins.find((p) => p.name === name)
  if (!plugin) throw new Error(`no payment method plugin named ${JSON.stringify(name)}`)
  return plugin
}

/** the plugin each method was built by, so its wording is found without passing the plugin list around */
const builtBy = new WeakMap<PaymentMethod, MethodPlugin>()

/** The plugin that built a method (by createMethods); a method built by hand falls back to its name. */
export function pluginOf(method: PaymentMethod): MethodPlugin {
  return builtBy.get(method) ?? pluginFor(method.name)
}

/**
 * The configured payment methods, in the order the config lists them (the order of challenges).
 * Without `services` (config checks, discovery) they only quote: nothing runs in the background.
 */
export function createMethods(
  config: GatewayConfig,
  services?: MethodServices,
  plugins: readonly MethodPlugin[] = methodPlugins,
): Map<string, PaymentMethod> {
  const methods = new Map<string, PaymentMethod>()
  const sections = config.methods as Readonly<Record<string, unknown>>
  for (const [name, section] of Object.entries(sections)) {
    if (section === undefined) continue
    const plugin = pluginFor(name, plugins)
    const method = plugin.create(section, { config, ...(services ? { services } : {}) })
    builtBy.set(method, plugin)
    methods.set(name, method)
  }
  return methods
}
