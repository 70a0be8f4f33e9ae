// Address facts the verdict needs: is an IPv4 address one the internet can route to us?
import { BlockList, isIPv4 } from 'node:net'
import { EngineError } from '../engine/errors.ts'

export interface Endpoint { address: string; port: number }

// IANA special-purpose IPv4 blocks (RFC 6890): a router WAN address in one of these means another
// NAT (carrier or a second home router) sits between us and the internet.
const NOT_GLOBAL: Array<[string, number]> = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16],
  ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4]
]
const notGlobal = new BlockList()
for (const [net, prefix] of NOT_GLOBAL) notGlobal.addSubnet(net, prefix, 'ipv4')

export function isGlobalIPv4 (address: string): boolean {
  return isIPv4(address) && !notGlobal.check(address, 'ipv4')
}

export const DEFAULT_STUN_PORT = 3478

/** "host", "host:port" -> Endpoint (host may still be a name to resolve). */
export function parseHostPort (text: string, defaultPort = DEFAULT_STUN_PORT): Endpoint {
  const m = /^([^\s:]+)(?::(\d{1,5}))?$/.exec(text.trim())
  const port = m?.[2] === undefined ? defaultPort : Number(m[2])
  if (!m?.[1] || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new EngineError('BAD_ARGUMENT', `a STUN server is HOST or HOST:PORT, not '${text}'`)
  }
  return { address: m[1], port }
}

export function formatEndpoint (e: Endpoint): string {
  return `${e.address}:${e.port}`
}

export function sameEndpoint (a: Endpoint | null, b: Endpoint | null): boolean {
  return !!a && !!b && a.address === b.address && a.port === b.port
}
