import { isIPv4, isIPv6 } from 'node:net'

export interface Cidr {
  readonly family: 'ipv4' | 'ipv6'
  readonly address: string
  readonly prefix: number
}

/** "10.0.0.0/8", "fd00::/8", or a bare address (a /32 or /128). */
export function parseCidr(text: string): Cidr | undefined {
  const [address = '', prefixText, ...rest] = text.split('/')
  if (rest.length > 0) return undefined
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined
  if (!family) return undefined
  const bits = family === 'ipv4' ? 32 : 128
  if (prefixText === undefined) return { family, address, prefix: bits }
  if (!/^[0-9]{1,3}$/.test(prefixText) || Number(prefixText) > bits) return undefined
  return { family, address, prefix: Number(prefixText) }
}
