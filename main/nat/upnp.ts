// UPnP IGD port mapping (WANIPConnection v1 and v2, WANPPPConnection) through @runonflux/nat-upnp,
// the maintained nat-upnp fork that works with both IGD versions (nat-upnp 1.1.1 fails on v2).
import { Client, type Device } from '@runonflux/nat-upnp'
import { withTimeout } from './with-timeout.ts'

export type Protocol = 'TCP' | 'UDP'

export interface UpnpTableEntry {
  protocol: Protocol
  externalPort: number
  internalClient: string
  internalPort: number
  description: string
  leaseSeconds: number
}

/** A SOAP fault from the router, e.g. 718 ConflictInMappingEntry or 725 OnlyPermanentLeasesSupported. */
export class UpnpError extends Error {
  readonly upnpCode: number | null
  constructor (action: string, upnpCode: number | null, description: string) {
    super(`UPnP ${action} failed: ${upnpCode ?? ''} ${description}`.replace(/\s+/g, ' ').trim())
    this.upnpCode = upnpCode
  }
}

const ONLY_PERMANENT_LEASES = 725
/** The external port is mapped to another host (often our own previous address after a network change). */
export const CONFLICT_IN_MAPPING_ENTRY = 718
const CALL_TIMEOUT_MS = 5000

export class UpnpGateway {
  readonly igdVersion: number | null
  /** Our own LAN address as the gateway sees it: the mapping's internal client. */
  readonly localAddress: string
  private readonly device: Device

  private constructor (device: Device, localAddress: string, igdVersion: number | null) {
    this.device = device
    this.localAddress = localAddress
    this.igdVersion = igdVersion
  }

  /** Finds the Internet Gateway Device by SSDP; null when none answers within `timeoutMs`. */
  static async discover (timeoutMs = 2000): Promise<UpnpGateway | null> {
    const client = new Client({ timeout: timeoutMs })
    let found: { gateway: Device; address: string }
    try {
      found = await client.getGateway()
    } catch {
      return null
    } finally {
      // SSDP is only for finding it; the control calls are plain HTTP to the device.
      client.close()
    }
    const { gateway, address } = found
    try {
      const service = await withTimeout(gateway.getService(gateway.services), CALL_TIMEOUT_MS, 'UPnP device description')
      const version = /:(\d+)$/.exec(service.service)?.[1]
      return new UpnpGateway(gateway, address, version ? Number(version) : null)
    } catch {
      return null
    }
  }

  async externalAddress (): Promise<string | null> {
    const body = await this.run('GetExternalIPAddress', [])
    const ip = field(body, 'GetExternalIPAddressResponse', 'NewExternalIPAddress')
    return ip && ip !== '0.0.0.0' ? ip : null
  }

  /** Maps `externalPort` to our `internalPort`; returns the lease granted (0 = permanent, for routers that allow nothing else). */
  async addMapping (protocol: Protocol, externalPort: number, internalPort: number, leaseSeconds: number, description: string): Promise<number> {
    const add = (lease: number): Promise<unknown> => this.run('AddPortMapping', [
      ['NewRemoteHost', ''], ['NewExternalPort', externalPort], ['NewProtocol', protocol], ['NewInternalPort', internalPort],
      ['NewInternalClient', this.localAddress], ['NewEnabled', 1], ['NewPortMappingDescription', description],
      ['NewLeaseDuration', lease]
    ])
    try {
      await add(leaseSeconds)
      return leaseSeconds
    } catch (err) {
      if (!(err instanceof UpnpError) || err.upnpCode !== ONLY_PERMANENT_LEASES) throw err
      await add(0)
      return 0
    }
  }

  async deleteMapping (protocol: Protocol, port: number): Promise<void> {
    await this.run('DeletePortMapping', [['NewRemoteHost', ''], ['NewExternalPort', port], ['NewProtocol', protocol]])
  }

  /** The router's whole mapping table (GetGenericPortMappingEntry until the index runs out). */
  async listMappings (): Promise<UpnpTableEntry[]> {
    const out: UpnpTableEntry[] = []
    for (let i = 0; i < 1024; i++) {
      let body: unknown
      try {
        body = await this.run('GetGenericPortMappingEntry', [['NewPortMappingIndex', i]])
      } catch (err) {
        if (err instanceof UpnpError) break // 713 SpecifiedArrayIndexInvalid: past the end
        throw err
      }
      const get = (k: string): string => field(body, 'GetGenericPortMappingEntryResponse', k) ?? ''
      out.push({
        protocol: get('NewProtocol').toUpperCase() === 'UDP' ? 'UDP' : 'TCP',
        externalPort: Number(get('NewExternalPort')),
        internalClient: get('NewInternalClient'),
        internalPort: Number(get('NewInternalPort')),
        description: get('NewPortMappingDescription'),
        leaseSeconds: Number(get('NewLeaseDuration'))
      })
    }
    return out
  }

  private async run (action: string, args: Array<[string, string | number]>): Promise<unknown> {
    try {
      return await withTimeout(this.device.run(action, args), CALL_TIMEOUT_MS, `UPnP ${action}`)
    } catch (err) {
      throw soapFault(action, err)
    }
  }
}

function field (body: unknown, response: string, key: string): string | null {
  const r = (body as Record<string, Record<string, unknown> | undefined> | undefined)?.[response]
  const v = r?.[key]
  return v === undefined || v === null ? null : String(v)
}

function soapFault (action: string, err: unknown): Error {
  const data = (err as { response?: { data?: unknown } }).response?.data
  if (typeof data === 'string') {
    const code = /<errorCode>\s*(\d+)\s*<\/errorCode>/.exec(data)?.[1]
    const description = /<errorDescription>([^<]*)<\/errorDescription>/.exec(data)?.[1] ?? ''
    if (code) return new UpnpError(action, Number(code), description)
  }
  return err instanceof Error ? err : new Error(String(err))
}
