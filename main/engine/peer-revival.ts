// Webtorrent gives a peer up after three failed reconnects (1 + 5 + 15 s), so a network outage
// longer than that leaves a download with no connection and nothing being dialled: stranded for
// good. While it is in that state it dials the peers it knew again every REVIVE_MS, and asks its
// trackers and the DHT at most every REANNOUNCE_MS.
import type WebTorrent from 'webtorrent'
import type { WtTorrent, WtWire } from 'webtorrent'

const REVIVE_MS = 10_000
const REANNOUNCE_MS = 60_000
const KNOWN_PEERS_MAX = 100

type Dht = WebTorrent['dht']
/** Fields webtorrent has but its typings leave out. */
type Dialling = { _peersLength?: number }
type Reannounce = { update?: () => void }
type Lookup = { lookup?: (infoHash: string) => void }

/** One torrent's revival; it outlives the WtTorrent, so peers known before a pause are dialled after it. */
export class PeerRevival {
  /** Addresses this torrent dialled and connected to (this session). */
  private readonly known = new Set<string>()
  /** When it last had a connection or a dial under way, or last re-dialled its known peers. */
  private lastRevive = 0
  private lastReannounce = 0

  /** Remembers the addresses the torrent connects to; call once per WtTorrent, as it is added. */
  watch (wt: WtTorrent): void {
    wt.on('wire', (wire: WtWire, addr?: string) => {
      // Only dialled addresses are worth dialling again (an incoming peer's port is ephemeral).
      if (!addr || !wire.type.endsWith('Outgoing') || this.known.has(addr)) return
      if (this.known.size >= KNOWN_PEERS_MAX) this.known.delete(this.known.values().next().value!)
      this.known.add(addr)
    })
    this.lastRevive = Date.now()
  }

  /** Called on every tick. `saved`: the peers stored with the torrent, dialled again too. */
  tick (wt: WtTorrent | null, saved: readonly string[], dht: Dht, now: number): void {
    const dialling = (wt as unknown as Dialling | null)?._peersLength ?? 0
    if (!wt || wt.destroyed || !wt.infoHash || wt.done || wt.wires.length > 0 || dialling > 0) {
      this.lastRevive = now
      return
    }
    if (now - this.lastRevive < REVIVE_MS) return
    this.lastRevive = now
    for (const addr of new Set([...saved, ...this.known])) wt.addPeer(addr)
    if (now - this.lastReannounce >= REANNOUNCE_MS) {
      this.lastReannounce = now
      ;(wt.discovery?.tracker as unknown as Reannounce | null | undefined)?.update?.()
      ;(dht as unknown as Lookup | null)?.lookup?.(wt.infoHash)
    }
  }
}
