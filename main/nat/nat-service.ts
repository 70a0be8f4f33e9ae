// The app's view of connectivity: keeps the engine's port mapped on the router, classifies the NAT
// and sums it up in one line. Used by the Electron main process, `shoal serve` and `shoal nat`.
import { EventEmitter } from 'node:events'
import type { NatStatus } from '../contract/contract.ts'
import { DEFAULT_LEASE_SECONDS } from './defaults.ts'
import { watchNetwork } from './network-watch.ts'
import { emptyMapperState, PortMapper, type MapperState } from './port-mapper.ts'
import { detectNatBehaviour, type NatBehaviour } from './stun-detect.ts'
import type { TransactionTiming } from './stun-client.ts'
import { verdictOf } from './verdict.ts'

export interface NatServiceOptions {
  /** The engine's listening port (TCP and uTP). */
  port: number
  /** "host" or "host:port"; tried in order. */
  stunServers: string[]
  /** Settings.upnp: map the port with UPnP / NAT-PMP. */
  upnp: boolean
  leaseSeconds?: number
  /** NAT-PMP gateway address; the default route's gateway when absent. */
  gateway?: string
  /** How often to look for a changed network; 0 turns the watch off. Default 10 s. */
  networkCheckMs?: number
  stunTiming?: TransactionTiming
  /** SSDP search time for the UPnP router. */
  discoveryTimeoutMs?: number
}

/** The port peers outside should dial: the router's mapped TCP port, or null when nothing is mapped. */
export function mappedPeerPort (s: NatStatus): number | null {
  return s.upnp.mappings.find((m) => m.protocol === 'TCP')?.externalPort ?? null
}

export class NatService extends EventEmitter<{ changed: [NatStatus] }> {
  private opts: NatServiceOptions
  private mapper: PortMapper | null = null
  private mapperState: MapperState = emptyMapperState()
  private behaviour: NatBehaviour | null = null
  private checkedAt: number | null = null
  private stopWatch: (() => void) | null = null
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false

  constructor (opts: NatServiceOptions) {
    super()
    this.opts = { ...opts }
  }

  /** Maps the port and detects the NAT (in parallel); resolves with the first full status. */
  start (): Promise<NatStatus> {
    return this.serial(async () => {
      await Promise.all([this.remap(), this.detect()])
      const interval = this.opts.networkCheckMs ?? 10_000
      if (interval > 0 && !this.stopWatch) this.stopWatch = watchNetwork(() => { void this.onNetworkChange() }, interval)
      return this.publish()
    })
  }

  status (): NatStatus {
    const facts = {
      listeningPort: this.opts.port,
      upnpEnabled: this.opts.upnp,
      ...this.mapperState,
      nat: {
        mapping: this.behaviour?.mapping ?? 'unknown',
        filtering: this.behaviour?.filtering ?? 'unknown',
        type: this.behaviour?.type ?? 'unknown',
        publicAddress: this.behaviour?.publicAddress ?? null,
        server: this.behaviour?.server ?? null,
        error: this.behaviour?.error ?? null
      }
    }
    const { upnpEnabled: _upnpEnabled, ...rest } = facts
    const v = this.closed
      ? { verdict: 'Stopped: the port mapping was removed', reachable: null }
      : this.checkedAt === null ? { verdict: 'Checking connectivity…', reachable: null } : verdictOf(facts)
    return { ...structuredClone(rest), ...v, checkedAt: this.checkedAt }
  }

  /** The last NAT detection's raw result (public endpoint, RFC 5780 support), for `shoal nat`. */
  behaviourDetail (): NatBehaviour | null {
    return this.behaviour ? { ...this.behaviour } : null
  }

  /** Detects the NAT again and makes the mapping again if it is missing. */
  refresh (): Promise<NatStatus> {
    return this.serial(async () => {
      const needsMap = this.opts.upnp && this.mapperState.upnp.mappings.length === 0
      await Promise.all([needsMap ? this.remap() : Promise.resolve(), this.detect()])
      return this.publish()
    })
  }

  /** The engine's port changed: remove the old mapping, map the new port. */
  setPort (port: number): Promise<NatStatus> {
    return this.update({ port })
  }

  /** Settings changed: remaps when the port, UPnP switch, lease or gateway changed; re-detects when the STUN servers did. */
  update (change: Partial<Pick<NatServiceOptions, 'port' | 'stunServers' | 'upnp' | 'leaseSeconds' | 'gateway'>>): Promise<NatStatus> {
    return this.serial(async () => {
      const before = this.opts
      this.opts = { ...before, ...change }
      const remap = before.port !== this.opts.port || before.upnp !== this.opts.upnp ||
        before.leaseSeconds !== this.opts.leaseSeconds || before.gateway !== this.opts.gateway
      const redetect = JSON.stringify(before.stunServers) !== JSON.stringify(this.opts.stunServers)
      await Promise.all([remap ? this.remap() : Promise.resolve(), redetect ? this.detect() : Promise.resolve()])
      return this.publish()
    })
  }

  /** Removes the router mappings and stops every timer. */
  close (): Promise<void> {
    this.closed = true
    this.stopWatch?.()
    this.stopWatch = null
    return this.serial(async () => {
      await this.mapper?.stop()
      this.mapper = null
      // Keep what was learnt about the router; only the mappings are gone.
      this.mapperState.upnp.mappings = []
    })
  }

  private async remap (): Promise<void> {
    await this.mapper?.stop()
    this.mapper = null
    this.mapperState = emptyMapperState()
    if (!this.opts.upnp || this.closed) return
    const mapper = new PortMapper({
      port: this.opts.port,
      leaseSeconds: this.opts.leaseSeconds ?? DEFAULT_LEASE_SECONDS,
      gateway: this.opts.gateway,
      discoveryTimeoutMs: this.opts.discoveryTimeoutMs
    })
    this.mapper = mapper
    mapper.on('changed', (state) => {
      if (this.mapper !== mapper) return
      this.mapperState = state
      this.publish()
    })
    this.mapperState = await mapper.start()
  }

  private async detect (): Promise<void> {
    this.behaviour = await detectNatBehaviour({ servers: this.opts.stunServers, timing: this.opts.stunTiming })
    this.checkedAt = Date.now()
  }

  private onNetworkChange (): Promise<NatStatus> {
    return this.serial(async () => {
      await Promise.all([this.remap(), this.detect()])
      return this.publish()
    })
  }

  private publish (): NatStatus {
    const s = this.status()
    if (!this.closed) this.emit('changed', s)
    return s
  }

  /** One operation at a time: a port change must not race a refresh on the router's table. */
  private serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return run
  }
}
