// Who may connect: the user's blocklist, and addresses banned this session for sending corrupt data.
// webtorrent asks `client.blocked.contains(ip)` before dialling and (patched) when a peer dials in.
//
// Blame for a piece that fails its hash check (patched webtorrent emits 'hashfail' with the bad
// piece and the wire that sent each block): a piece that came from one address is that address's
// fault. A piece assembled from several peers is kept until the piece verifies from someone, then
// compared block by block with the good copy: only the addresses whose blocks differed are blamed,
// so an honest peer that happened to share a piece with a liar is never banned.
import type { WtTorrent, WtWire } from 'webtorrent'
import type { BannedPeer } from '../contract/contract.ts'
import { normalizeIp, type IpBlocklist } from './blocklist.ts'
import { clientName } from './snapshots.ts'

/** Corrupt pieces after which an address is banned. */
export const BAN_AFTER = 3
const BLOCK = 16 * 1024
/** Failed multi-source pieces kept per torrent until they verify (each up to a piece's length). */
const MAX_PENDING = 16
/** Addresses with strikes but not yet banned that are remembered. */
const MAX_STRUCK = 10000

interface Pending { bad: Uint8Array; sources: Array<WtWire | undefined> }
type StoreGet = { get(index: number, opts: null, cb: (err: Error | null, buf?: Uint8Array) => void): void }

export class PeerGuard {
  blocklist: IpBlocklist | null = null
  private readonly strikes = new Map<string, number>()
  private readonly banned = new Map<string, BannedPeer>()
  /** Called when an address is banned: the engine disconnects it everywhere. */
  private readonly onBan: () => void
  constructor (onBan: () => void) { this.onBan = onBan }

  /** The object webtorrent consults as `client.blocked`. */
  readonly blocked = { contains: (address: string): boolean => this.isRefused(address) }

  isRefused (address: string): boolean {
    const ip = normalizeIp(address)
    return this.banned.has(ip) || !!this.blocklist?.contains(ip)
  }

  bans (infoHash?: string): BannedPeer[] {
    const all = [...this.banned.values()]
    return infoHash ? all.filter((b) => b.infoHash === infoHash) : all
  }

  get banCount (): number { return this.banned.size }

  /** Follows one torrent's hash failures. `name` is read when a ban is recorded. */
  watch (wt: WtTorrent, name: () => string): void {
    const pending = new Map<number, Pending[]>()
    let kept = 0
    wt.on('hashfail', (index: number, bad: Uint8Array, sources: Array<WtWire | undefined>) => {
      const senders = new Set(sources.filter((w): w is WtWire => !!w?.remoteAddress).map((w) => normalizeIp(w.remoteAddress!)))
      if (senders.size === 1) {
        const wire = sources.find((w) => w?.remoteAddress)!
        this.strike(wire, wt, name)
        return
      }
      if (senders.size === 0 || kept >= MAX_PENDING) return // nothing to blame, or too much held: forgive
      const list = pending.get(index) ?? []
      list.push({ bad, sources })
      pending.set(index, list)
      kept++
    })
    wt.on('verified', (index: number) => {
      const list = pending.get(index)
      if (!list) return
      pending.delete(index)
      kept -= list.length
      const store = (wt as unknown as { store: StoreGet | null }).store
      store?.get(index, null, (err, good) => {
        if (err || !good || wt.destroyed) return
        for (const p of list) {
          const guilty = new Set<WtWire>()
          for (let b = 0; b * BLOCK < good.length; b++) {
            const w = p.sources[b]
            if (!w || guilty.has(w)) continue
            const s = b * BLOCK
            const e = Math.min(good.length, s + BLOCK)
            if (!Buffer.from(good.buffer, good.byteOffset + s, e - s).equals(Buffer.from(p.bad.buffer, p.bad.byteOffset + s, e - s))) guilty.add(w)
          }
          const seen = new Set<string>()
          for (const w of guilty) {
            const ip = normalizeIp(w.remoteAddress!)
            if (seen.has(ip)) continue
            seen.add(ip)
            this.strike(w, wt, name)
          }
        }
      })
    })
  }

  private strike (wire: WtWire, wt: WtTorrent, name: () => string): void {
    const ip = normalizeIp(wire.remoteAddress!)
    if (this.banned.has(ip)) return
    const n = (this.strikes.get(ip) ?? 0) + 1
    // Addresses with a strike or two are remembered, but not without end: forget the oldest.
    if (!this.strikes.has(ip) && this.strikes.size >= MAX_STRUCK) this.strikes.delete(this.strikes.keys().next().value!)
    this.strikes.set(ip, n)
    if (n < BAN_AFTER) return
    this.strikes.delete(ip)
    this.banned.set(ip, {
      address: ip,
      port: wire.remotePort ?? 0,
      infoHash: wt.infoHash,
      torrentName: name(),
      client: clientName(wire.peerId),
      corruptPieces: n,
      reason: `Banned: sent ${n} corrupt pieces`,
      bannedAt: Date.now()
    })
    this.onBan()
  }
}
