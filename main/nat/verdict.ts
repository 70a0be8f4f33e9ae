// Facts -> the one line the UI shows, and whether peers can reach us. Pure: no I/O, no clock.
import type { NatStatus } from '../contract/contract.ts'
import { isGlobalIPv4 } from './addresses.ts'

export type NatFacts = Omit<NatStatus, 'verdict' | 'reachable' | 'checkedAt'> & {
  /** False when the user turned port mapping off in settings. */
  upnpEnabled: boolean
}

export interface Verdict { verdict: string; reachable: boolean | null }

const METHOD_NAME = { upnp: 'UPnP', natpmp: 'NAT-PMP' } as const

export function verdictOf (f: NatFacts): Verdict {
  const port = f.listeningPort
  const routerWan = f.upnp.externalAddress ?? f.natpmp.externalAddress
  const publicIp = f.nat.publicAddress
  const tcp = f.upnp.mappings.find((m) => m.protocol === 'TCP' && m.internalPort === port)

  if (routerWan && !isGlobalIPv4(routerWan)) {
    return {
      verdict: `Double NAT: the router's WAN address ${routerWan} is private` +
        (tcp ? `, so port ${port} mapped by ${METHOD_NAME[tcp.method]} is not reachable from the internet` : '; incoming connections cannot be mapped'),
      reachable: false
    }
  }
  if (routerWan && publicIp && routerWan !== publicIp) {
    return { verdict: `Double NAT: the router's WAN address ${routerWan} is not the public address ${publicIp}; incoming connections cannot be mapped`, reachable: false }
  }
  // miniupnpd (most routers' UPnP) answers with an empty WAN address and maps nothing when its own
  // WAN address is private; STUN reaching the internet at the same time means another NAT is upstream.
  if (!tcp && f.upnp.available && !f.upnp.externalAddress && publicIp) {
    return { verdict: `Double NAT: the router's WAN address is private (it reports none and refuses to map); incoming connections cannot be mapped, public address ${publicIp} belongs to an upstream NAT`, reachable: false }
  }
  if (tcp) {
    const external = tcp.externalPort === port ? `port ${port}` : `port ${port} (external ${tcp.externalPort})`
    return { verdict: `Reachable: ${external} mapped by ${METHOD_NAME[tcp.method]}`, reachable: true }
  }
  // A UPnP router that answers but will not map: its own WAN address may be the cause, or its policy.
  const noMapping = !f.upnpEnabled
    ? 'port mapping is off in settings'
    : f.upnp.available || f.natpmp.available
      ? `the router refused to map port ${port}${f.upnp.error ? ` (${f.upnp.error})` : ''}`
      : 'the router offers no UPnP or NAT-PMP'

  switch (f.nat.type) {
    case 'open':
      return { verdict: `Reachable: no NAT, public address ${publicIp ?? 'unknown'}`, reachable: true }
    case 'symmetric':
      return { verdict: 'Behind symmetric NAT: incoming connections impossible, outgoing only', reachable: false }
    case 'full-cone':
      return { verdict: `Partly reachable: full-cone NAT lets peers reach you over UDP, but ${noMapping}, so TCP is closed`, reachable: null }
    case 'restricted-cone':
    case 'port-restricted-cone':
      return {
        verdict: `Not reachable: ${f.nat.type === 'restricted-cone' ? 'restricted' : 'port-restricted'} cone NAT and ${noMapping}; outgoing connections and hole punching only`,
        reachable: false
      }
    case 'udp-blocked':
      return { verdict: `UDP blocked: no STUN server answered; uTP and DHT will not work${f.upnp.available ? '' : ', and ' + noMapping}`, reachable: false }
    default:
      return { verdict: `Reachability unknown: ${noMapping}${f.nat.error ? `; ${f.nat.error}` : ''}`, reachable: null }
  }
}
