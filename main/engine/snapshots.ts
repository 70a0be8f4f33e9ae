// Contract-shaped views of webtorrent's live objects. Pure reads: nothing here changes a torrent.
import peerid from 'bittorrent-peerid'
import type { WtTorrent, WtWire } from 'webtorrent'
import type { FilePriority, FileSnapshot, PeerSnapshot, Transport } from '../contract/contract.ts'

const clientNames = new Map<string, string>()

/** "qBittorrent 4.5.2" from a peer id (hex), cached: the same ids come back every tick. */
export function clientName (peerIdHex: string | null): string {
  if (!peerIdHex) return 'unknown'
  let name = clientNames.get(peerIdHex)
  if (name === undefined) {
    try {
      const p = peerid(Buffer.from(peerIdHex, 'hex'))
      name = p.client && p.client !== 'unknown' ? `${p.client}${p.version ? ` ${p.version}` : ''}` : 'unknown'
    } catch {
      name = 'unknown'
    }
    if (clientNames.size > 10000) clientNames.clear()
    clientNames.set(peerIdHex, name)
  }
  return name
}

export function transportOf (wire: WtWire): Transport {
  const t = wire.type.toLowerCase()
  if (t.startsWith('utp')) return 'utp'
  if (t === 'webrtc') return 'webrtc'
  if (t === 'webseed') return 'webseed'
  return 'tcp'
}

function popcount (bytes: Uint8Array, bits: number): number {
  let n = 0
  const full = bits >> 3
  for (let i = 0; i < full; i++) { let b = bytes[i]!; while (b) { n += b & 1; b >>= 1 } }
  for (let i = full * 8; i < bits; i++) if ((bytes[i >> 3] ?? 0) & (128 >> (i & 7))) n++
  return n
}

export function peerProgress (wire: WtWire, pieceCount: number): number {
  if (wire.isSeeder) return 1
  if (!pieceCount) return 0
  return Math.min(1, popcount(wire.peerPieces.buffer, pieceCount) / pieceCount)
}

export function peerSnapshots (t: WtTorrent, torrentName: string): PeerSnapshot[] {
  const pieceCount = t.pieces?.length ?? 0
  return t.wires.map((w) => {
    const address = w.remoteAddress ?? ''
    const port = w.remotePort ?? 0
    return {
      id: w.type === 'webSeed' ? `webseed:${address}` : `${address}:${port}`,
      infoHash: t.infoHash,
      torrentName,
      address,
      port,
      client: w.type === 'webSeed' ? 'web seed' : clientName(w.peerId),
      transport: transportOf(w),
      flags: {
        choked: w.peerChoking,
        interested: w.amInterested,
        peerChoked: w.amChoking,
        peerInterested: w.peerInterested,
        encrypted: w._encryptionMethod === 2,
        incoming: w.type.includes('Incoming')
      },
      downloadSpeed: Math.round(w.downloadSpeed()),
      uploadSpeed: Math.round(w.uploadSpeed()),
      downloaded: w.downloaded,
      uploaded: w.uploaded,
      progress: peerProgress(w, pieceCount)
    }
  })
}

/** Bytes of verified pieces inside [start, end) of the torrent. */
export function verifiedBytesIn (has: (piece: number) => boolean, pl: number, start: number, end: number): number {
  if (end <= start) return 0
  let sum = 0
  for (let p = Math.floor(start / pl); p * pl < end; p++) {
    if (!has(p)) continue
    sum += Math.min(end, (p + 1) * pl) - Math.max(start, p * pl)
  }
  return sum
}

export function fileSnapshots (t: WtTorrent, priorities: FilePriority[] | null): FileSnapshot[] {
  const bf = t.bitfield
  const has = (i: number) => !!bf?.get(i)
  return t.files.map((f, index) => {
    const downloaded = verifiedBytesIn(has, t.pieceLength, f.offset, f.offset + f.length)
    return {
      index,
      path: f.path.split(/[\\/]/).join('/'),
      length: f.length,
      downloaded,
      progress: f.length ? downloaded / f.length : 1,
      priority: priorities?.[index] ?? 'normal'
    }
  })
}

export function bitfieldBase64 (t: WtTorrent): string {
  return t.bitfield ? Buffer.from(t.bitfield.buffer).toString('base64') : ''
}
