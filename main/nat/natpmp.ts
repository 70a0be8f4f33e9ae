// NAT-PMP (RFC 6886) port mapping, the fallback for routers without UPnP IGD. The wire protocol is
// @silentbot1/nat-api's client (the one WebTorrent ships); it has no timeouts and jams its queue on a
// lost packet, so every operation here uses a fresh client, closed after one answer or a timeout.
import type { Protocol } from './upnp.ts'
import { withTimeout } from './with-timeout.ts'

interface PmpClient {
  externalIp (): Promise<string>
  portMapping (opts: { private: number; public: number; type: 'tcp' | 'udp'; ttl: number }): Promise<{ public: number; ttl: number }>
  on (event: 'error', listener: (err: Error) => void): void
  close (): Promise<void>
}
type PmpClientClass = new (gateway: string) => PmpClient

// Paths outside the package's typed surface: loaded by a non-literal specifier, typed by the interfaces above.
const PMP_MODULE: string = '@silentbot1/nat-api/lib/pmp/index.js'
const GATEWAY_MODULE: string = 'default-gateway'
const TIMEOUT_MS = 1500

export async function defaultGateway (): Promise<string | null> {
  try {
    const mod = await import(GATEWAY_MODULE) as { gateway4async (): Promise<{ gateway: string }> }
    return (await mod.gateway4async()).gateway
  } catch {
    return null
  }
}

export class NatPmpGateway {
  readonly gateway: string
  private constructor (gateway: string) { this.gateway = gateway }

  /** A gateway that answers NAT-PMP, with its external address; null when it does not answer. */
  static async probe (gateway: string): Promise<{ gateway: NatPmpGateway; externalAddress: string } | null> {
    const g = new NatPmpGateway(gateway)
    try {
      return { gateway: g, externalAddress: await g.once((c) => c.externalIp(), 'external address') }
    } catch {
      return null
    }
  }

  externalAddress (): Promise<string> {
    return this.once((c) => c.externalIp(), 'external address')
  }

  /** Returns the external port and lease the gateway granted (both may differ from the request). */
  async addMapping (protocol: Protocol, port: number, leaseSeconds: number): Promise<{ externalPort: number; leaseSeconds: number }> {
    const r = await this.once((c) => c.portMapping({ private: port, public: port, type: lower(protocol), ttl: leaseSeconds }), `map ${protocol} ${port}`)
    return { externalPort: r.public, leaseSeconds: r.ttl }
  }

  async deleteMapping (protocol: Protocol, port: number): Promise<void> {
    await this.once((c) => c.portMapping({ private: port, public: 0, type: lower(protocol), ttl: 0 }), `unmap ${protocol} ${port}`)
  }

  private async once<T> (fn: (client: PmpClient) => Promise<T>, what: string): Promise<T> {
    const { default: Client } = await import(PMP_MODULE) as { default: PmpClientClass }
    const client = new Client(this.gateway)
    const failed = new Promise<never>((_resolve, reject) => client.on('error', reject))
    failed.catch(() => {}) // a socket error after the answer is harmless
    try {
      return await withTimeout(Promise.race([fn(client), failed]), TIMEOUT_MS, `NAT-PMP ${what} at ${this.gateway}`)
    } finally {
      await client.close()
    }
  }
}

function lower (p: Protocol): 'tcp' | 'udp' {
  return p === 'UDP' ? 'udp' : 'tcp'
}
