// Peer exchange, sending side. webtorrent wires up ut_pex to receive peers but never tells a
// peer about the others it is connected to, so a swarm only grows through trackers and DHT.
// Here every connected peer's listening address is advertised to every other peer.
import type { WtTorrent, WtWire } from 'webtorrent'

interface PexExtension {
  addPeer(addr: string): void
  dropPeer(addr: string): void
  _sendMessage?: () => void
}
type PexWire = WtWire & { ut_pex?: PexExtension; peerExtendedHandshake?: { p?: number; m?: Record<string, number> } }

/** "ip:port" where the peer accepts connections, or null when unknown (incoming, no 'p' sent). */
function listenAddr (w: PexWire): string | null {
  if (!w.remoteAddress || w.remoteAddress.includes(':')) return null // IPv4 only, as ut_pex's addPeer
  if (w.type === 'tcpOutgoing' || w.type === 'utpOutgoing') return `${w.remoteAddress}:${w.remotePort}`
  const p = w.peerExtendedHandshake?.p
  return typeof p === 'number' && p > 0 && p < 65536 ? `${w.remoteAddress}:${p}` : null
}

export function advertisePeers (t: WtTorrent): void {
  t.on('wire', (wire: PexWire) => {
    if (!wire.ut_pex) return // private torrent or PEX off
    wire.once('extended', () => {
      // Only peers that negotiated ut_pex can take a PEX message; bittorrent-protocol throws otherwise.
      if (!wire.peerExtendedHandshake?.m?.ut_pex) return
      const others = (t.wires as PexWire[]).filter((w) => w !== wire)
      for (const w of others) {
        const a = listenAddr(w)
        if (a) wire.ut_pex?.addPeer(a)
      }
      const mine = listenAddr(wire)
      if (mine) for (const w of others) if (w.peerExtendedHandshake?.m?.ut_pex) w.ut_pex?.addPeer(mine)
      // ut_pex waits a full minute before its first message; a new peer benefits most now.
      const first = setTimeout(() => {
        try {
          if (!wire.destroyed) wire.ut_pex?._sendMessage?.()
        } catch { /* the wire closed between the check and the send */ }
      }, 1000)
      first.unref()
      wire.once('close', () => {
        clearTimeout(first)
        if (mine) for (const w of t.wires as PexWire[]) if (w !== wire) w.ut_pex?.dropPeer(mine)
      })
    })
  })
}
