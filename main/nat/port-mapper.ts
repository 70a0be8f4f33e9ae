// Keeps one port forwarded on the router for TCP and UDP: UPnP IGD first, NAT-PMP as the fallback.
// Renews each lease at half its life on unref'd timers, and removes both mappings on stop().
import { EventEmitter } from 'node:events'
import type { NatStatus, PortMapping } from '../contract/contract.ts'
import { defaultGateway, NatPmpGateway } from './natpmp.ts'
import { CONFLICT_IN_MAPPING_ENTRY, UpnpError, UpnpGateway, type Protocol } from './upnp.ts'
import { errorMessage } from './with-timeout.ts'

export interface PortMapperOptions {
  port: number
  /** Requested lease; routers may grant less (NAT-PMP) or only permanent ones (old IGD v1). */
  leaseSeconds: number
  /** NAT-PMP gateway; the default route's gateway when absent. */
  gateway?: string
  description?: string
  discoveryTimeoutMs?: number
}

export type MapperState = Pick<NatStatus, 'upnp' | 'natpmp'>

const PROTOCOLS: Protocol[] = ['TCP', 'UDP']
/** Never renew more often than this, however short the granted lease. */
const MIN_RENEW_MS = 1000

export class PortMapper extends EventEmitter<{ changed: [MapperState] }> {
  readonly port: number
  private readonly opts: PortMapperOptions
  private upnp: UpnpGateway | null = null
  private pmp: NatPmpGateway | null = null
  private current: MapperState = emptyMapperState()
  private renewTimer: NodeJS.Timeout | null = null
  private stopped = false

  constructor (opts: PortMapperOptions) {
    super()
    this.opts = opts
    this.port = opts.port
  }

  state (): MapperState {
    return structuredClone(this.current)
  }

  /** Finds the router and maps the port; never throws (failures land in the state's error fields). */
  async start (): Promise<MapperState> {
    const state = emptyMapperState()
    this.upnp = await UpnpGateway.discover(this.opts.discoveryTimeoutMs)
    if (this.upnp) {
      state.upnp.available = true
      state.upnp.igdVersion = this.upnp.igdVersion
      state.upnp.externalAddress = await this.upnp.externalAddress().catch(() => null)
      try {
        state.upnp.mappings = await this.mapAll('upnp')
      } catch (err) {
        state.upnp.error = errorMessage(err)
      }
    }

    const gateway = this.opts.gateway ?? await defaultGateway()
    const probe = gateway ? await NatPmpGateway.probe(gateway) : null
    if (probe) {
      this.pmp = probe.gateway
      state.natpmp = { available: true, externalAddress: probe.externalAddress }
      if (state.upnp.mappings.length === 0) {
        try {
          state.upnp.mappings = await this.mapAll('natpmp')
          state.upnp.error = null
        } catch (err) {
          state.upnp.error ??= errorMessage(err)
        }
      }
    }
    if (!this.upnp && !probe) state.upnp.error = 'No UPnP IGD or NAT-PMP gateway answered.'
    this.current = state
    this.scheduleRenewal()
    return this.state()
  }

  /** Removes the mappings from the router and stops renewing. */
  async stop (): Promise<void> {
    this.stopped = true
    if (this.renewTimer) clearTimeout(this.renewTimer)
    this.renewTimer = null
    const mappings = this.current.upnp.mappings
    this.current.upnp.mappings = []
    await this.release(mappings)
  }

  private async release (mappings: PortMapping[]): Promise<void> {
    await Promise.allSettled(mappings.map((m) => m.method === 'upnp'
      ? this.upnp?.deleteMapping(m.protocol, m.externalPort)
      : this.pmp?.deleteMapping(m.protocol, m.internalPort)))
  }

  /**
   * Maps TCP and UDP on one external port: the same as ours when free. When the router says the
   * port belongs to another host (a stale mapping to our old address after a network change, which
   * secure-mode routers will not let us delete), a few random high ports are tried instead.
   */
  private async mapAll (method: PortMapping['method'], external = this.opts.port): Promise<PortMapping[]> {
    const candidates = [external, ...Array.from({ length: 3 }, () => 49152 + Math.floor(Math.random() * 16000))]
    for (const [i, candidate] of candidates.entries()) {
      try {
        return await this.mapBoth(method, candidate)
      } catch (err) {
        const conflict = err instanceof UpnpError && err.upnpCode === CONFLICT_IN_MAPPING_ENTRY
        if (!conflict || i === candidates.length - 1) throw err
      }
    }
    return []
  }

  private async mapBoth (method: PortMapping['method'], external: number): Promise<PortMapping[]> {
    const out: PortMapping[] = []
    try {
      for (const protocol of PROTOCOLS) out.push(await this.mapOne(method, protocol, external))
    } catch (err) {
      // Half a mapping is no use and would linger: take back what was made.
      await this.release(out)
      throw err
    }
    if (this.stopped) {
      // stop() ran while we were talking to the router: it must not leave these behind.
      await this.release(out)
      return []
    }
    return out
  }

  private async mapOne (method: PortMapping['method'], protocol: Protocol, external: number): Promise<PortMapping> {
    const { port, leaseSeconds } = this.opts
    if (method === 'upnp') {
      const granted = await this.upnp!.addMapping(protocol, external, port, leaseSeconds, this.opts.description ?? 'Shoal')
      return { protocol, internalPort: port, externalPort: external, method, expiresAt: granted > 0 ? Date.now() + granted * 1000 : null }
    }
    // NAT-PMP picks another external port by itself when ours is taken.
    const r = await this.pmp!.addMapping(protocol, port, leaseSeconds)
    return { protocol, internalPort: port, externalPort: r.externalPort, method, expiresAt: Date.now() + r.leaseSeconds * 1000 }
  }

  private scheduleRenewal (): void {
    if (this.stopped) return
    const expiries = this.current.upnp.mappings.map((m) => m.expiresAt).filter((e): e is number => e !== null)
    if (expiries.length === 0) return
    const soonest = Math.min(...expiries)
    const delay = Math.max(MIN_RENEW_MS, (soonest - Date.now()) / 2)
    this.renewTimer = setTimeout(() => { void this.renew() }, delay)
    this.renewTimer.unref()
  }

  /** Re-adds each mapping before its lease ends; when the router forgot us or went away, starts over. */
  private async renew (): Promise<void> {
    if (this.stopped) return
    try {
      const held = this.current.upnp.mappings[0]
      this.current.upnp.mappings = await this.mapAll(held?.method ?? 'upnp', held?.externalPort)
      this.current.upnp.error = null
      this.scheduleRenewal()
    } catch (err) {
      if (this.stopped) return
      await this.start() // schedules its own renewal
      if (this.current.upnp.mappings.length === 0) this.current.upnp.error ??= `Renewing the port mapping failed: ${errorMessage(err)}`
    }
    // expiresAt moves on every renewal, so this always is a change.
    if (!this.stopped) this.emit('changed', this.state())
  }
}

export function emptyMapperState (): MapperState {
  return {
    upnp: { available: false, igdVersion: null, externalAddress: null, mappings: [], error: null },
    natpmp: { available: false, externalAddress: null }
  }
}
