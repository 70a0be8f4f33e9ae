// Turns what a user gives us (magnet URI, info hash, .torrent bytes) into a checked description,
// or a clear EngineError. The .torrent checks run on the raw bencoded info dictionary because
// parse-torrent normalises '..' away silently; a hostile name must be refused, not rewritten.
import { createHash } from 'node:crypto'
import bencode from 'bencode'
import magnet from 'magnet-uri'
import { EngineError } from './errors.ts'

export interface TorrentFileEntry { path: string; length: number; offset: number }

export interface ParsedInput {
  infoHash: string
  /** The .torrent bytes, when we have the info dictionary. */
  torrentFile: Uint8Array | null
  name: string | null
  announce: string[]
  webSeeds: string[]
  /** Peers named in the magnet (x.pe). */
  peers: string[]
  magnetURI: string
  info: CheckedInfo | null
  /** The .torrent's own comment and "created by" (outside the info dictionary). */
  comment: string | null
  createdBy: string | null
}

export interface CheckedInfo {
  name: string
  pieceLength: number
  pieceCount: number
  length: number
  files: TorrentFileEntry[]
  private: boolean
}

/** Limits beyond which a .torrent is refused as absurd (libtorrent uses similar bounds). */
export const LIMITS = {
  maxTorrentBytes: 64 * 1024 * 1024,
  maxPieceLength: 256 * 1024 * 1024,
  minPieceLength: 1024,
  maxPieces: 4 * 1024 * 1024,
  maxFiles: 1_000_000,
  maxPathDepth: 64,
  maxNameBytes: 255,
  maxTotalLength: 2 ** 50 // 1 PiB
} as const

const HEX40 = /^[0-9a-fA-F]{40}$/
const BASE32 = /^[A-Za-z2-7]{32}$/
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i

export function isMagnet (s: string): boolean {
  return /^magnet:\?/i.test(s.trim())
}

export function isInfoHash (s: string): boolean {
  return HEX40.test(s.trim()) || BASE32.test(s.trim())
}

/** Parses a magnet URI or a bare info hash. */
export function parseUri (raw: string): ParsedInput {
  const uri = raw.trim()
  if (isInfoHash(uri)) return parseUri(`magnet:?xt=urn:btih:${uri}`)
  if (!isMagnet(uri)) {
    throw new EngineError('BAD_MAGNET', 'Not a magnet link or info hash: a magnet link starts with "magnet:?" and an info hash is 40 hexadecimal characters.')
  }
  let data
  try {
    data = magnet(uri)
  } catch (err) {
    throw new EngineError('BAD_MAGNET', `This magnet link cannot be read: ${(err as Error).message}.`)
  }
  const xts = ([] as string[]).concat(data.xt ?? [])
  if (!xts.some((x) => /^urn:btih:/i.test(x))) {
    const hasV2 = xts.some((x) => /^urn:btmh:/i.test(x))
    throw new EngineError('BAD_MAGNET', hasV2
      ? 'This magnet link is for BitTorrent v2 only (urn:btmh), which Shoal does not support yet.'
      : 'This magnet link has no BitTorrent info hash (xt=urn:btih:...).')
  }
  const infoHash = data.infoHash?.toLowerCase()
  if (!infoHash || !HEX40.test(infoHash)) {
    throw new EngineError('BAD_MAGNET', 'The info hash in this magnet link is malformed: it must be 40 hexadecimal or 32 base32 characters.')
  }
  const name = Array.isArray(data.name) ? data.name[0] : data.name
  return {
    infoHash,
    torrentFile: null,
    name: name ?? null,
    announce: (data.announce ?? []).filter(isTrackerUrl),
    webSeeds: (data.urlList ?? []).filter((u) => /^https?:\/\//i.test(u)),
    peers: data.peerAddresses ?? [],
    magnetURI: uri,
    info: null,
    comment: null,
    createdBy: null
  }
}

function isTrackerUrl (u: string): boolean {
  return /^(https?|udp|wss?):\/\/[^\s]+$/i.test(u)
}

function asBytes (v: unknown): Uint8Array | null {
  return v instanceof Uint8Array ? v : null
}

function text (v: unknown): string | null {
  const b = asBytes(v)
  return b ? new TextDecoder('utf-8', { fatal: false }).decode(b) : null
}

function isDict (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}

/** One path component from a .torrent: refuses anything that could leave the download folder. */
export function checkPathComponent (part: string, where: string): string {
  const bytes = Buffer.byteLength(part)
  if (part === '' || part === '.' || part === '..') throw unsafe(`${where} has a path part "${part}"`)
  if (/[/\\]/.test(part)) throw unsafe(`${where} has a path part containing a slash: "${part}"`)
  if ([...part].some((c) => c.charCodeAt(0) < 0x20)) throw unsafe(`${where} has a path part with control characters`)
  if (/^[a-zA-Z]:/.test(part)) throw unsafe(`${where} has a drive letter: "${part}"`)
  if (WINDOWS_DEVICE.test(part)) throw unsafe(`${where} names a device: "${part}"`)
  if (bytes > LIMITS.maxNameBytes) throw unsafe(`${where} has a name of ${bytes} bytes (the limit is ${LIMITS.maxNameBytes})`)
  return part
}

function unsafe (what: string): EngineError {
  return new EngineError('UNSAFE_PATH', `Refused: this torrent is unsafe, ${what}. Files could be written outside the download folder.`)
}

function bad (what: string): EngineError {
  return new EngineError('BAD_TORRENT', `This .torrent file is invalid: ${what}.`)
}

/** Checks a decoded info dictionary: names, piece geometry, sizes. */
export function checkInfo (info: unknown): CheckedInfo {
  if (!isDict(info)) throw bad('it has no info dictionary')
  const name = text(info['name.utf-8'] ?? info.name)
  if (name === null) throw bad('the info dictionary has no name')
  checkPathComponent(name, 'the torrent name')
  const pieceLength = info['piece length']
  if (typeof pieceLength !== 'number' || !Number.isSafeInteger(pieceLength)) throw bad('the piece length is missing')
  if (pieceLength < LIMITS.minPieceLength || pieceLength > LIMITS.maxPieceLength) {
    throw bad(`the piece length ${pieceLength} is outside ${LIMITS.minPieceLength} to ${LIMITS.maxPieceLength} bytes`)
  }
  const pieces = asBytes(info.pieces)
  if (!pieces) throw bad('the piece hashes are missing')
  if (pieces.length % 20 !== 0) throw bad('the piece hash list is not a whole number of SHA-1 hashes')
  const pieceCount = pieces.length / 20
  if (pieceCount > LIMITS.maxPieces) throw bad(`it lists ${pieceCount} pieces (the limit is ${LIMITS.maxPieces})`)

  const files: TorrentFileEntry[] = []
  let length = 0
  if (info.files !== undefined) {
    if (!Array.isArray(info.files) || info.files.length === 0) throw bad('the file list is empty or malformed')
    if (info.files.length > LIMITS.maxFiles) throw bad(`it lists ${info.files.length} files (the limit is ${LIMITS.maxFiles})`)
    const seen = new Set<string>()
    for (const [i, f] of info.files.entries()) {
      if (!isDict(f)) throw bad(`file ${i} is malformed`)
      const len = f.length
      if (typeof len !== 'number' || !Number.isSafeInteger(len) || len < 0) throw bad(`file ${i} has an invalid length`)
      const rawPath = f['path.utf-8'] ?? f.path
      if (!Array.isArray(rawPath) || rawPath.length === 0) throw bad(`file ${i} has no path`)
      if (rawPath.length > LIMITS.maxPathDepth) throw unsafe(`file ${i} is ${rawPath.length} folders deep`)
      const parts = rawPath.map((p) => {
        const t = text(p)
        if (t === null) throw bad(`file ${i} has a malformed path`)
        return checkPathComponent(t, `file ${i}`)
      })
      const path = [name, ...parts].join('/')
      const key = path.toLowerCase()
      if (seen.has(key)) throw unsafe(`two files share the path "${path}"`)
      seen.add(key)
      files.push({ path, length: len, offset: length })
      length += len
    }
  } else {
    const len = info.length
    if (typeof len !== 'number' || !Number.isSafeInteger(len) || len < 0) throw bad('the file length is missing or invalid')
    files.push({ path: name, length: len, offset: 0 })
    length = len
  }
  if (length > LIMITS.maxTotalLength) throw bad(`its total size (${length} bytes) is absurd`)
  const expectedPieces = Math.ceil(length / pieceLength)
  if (expectedPieces !== pieceCount) {
    throw bad(`it has ${pieceCount} piece hashes but ${length} bytes in pieces of ${pieceLength} need ${expectedPieces}`)
  }
  return { name, pieceLength, pieceCount, length, files, private: info.private === 1 }
}

/** Parses .torrent bytes: bencode, then the checks above. */
export function parseTorrentBytes (bytes: Uint8Array): ParsedInput {
  if (bytes.length === 0) throw bad('the file is empty')
  if (bytes.length > LIMITS.maxTorrentBytes) throw bad(`it is ${bytes.length} bytes, larger than any real .torrent`)
  let decoded: unknown
  try {
    decoded = bencode.decode(bytes)
  } catch (err) {
    throw bad(`it is not bencoded data (${(err as Error).message})`)
  }
  if (!isDict(decoded)) throw bad('it is not a bencoded dictionary')
  const rawInfo = decoded.info
  const info = checkInfo(rawInfo)
  const infoHash = createHash('sha1').update(bencode.encode(rawInfo)).digest('hex')
  const announce = new Set<string>()
  const single = text(decoded.announce)
  if (single && isTrackerUrl(single)) announce.add(single)
  if (Array.isArray(decoded['announce-list'])) {
    for (const tier of decoded['announce-list']) {
      if (!Array.isArray(tier)) continue
      for (const u of tier) { const t = text(u); if (t && isTrackerUrl(t)) announce.add(t) }
    }
  }
  const urlList = ([] as unknown[]).concat(decoded['url-list'] ?? []).map(text).filter((u): u is string => !!u && /^https?:\/\//i.test(u))
  const params = new URLSearchParams({ dn: info.name })
  const magnetURI = `magnet:?xt=urn:btih:${infoHash}&${params.toString()}${[...announce].map((a) => `&tr=${encodeURIComponent(a)}`).join('')}`
  return { infoHash, torrentFile: bytes, name: info.name, announce: [...announce], webSeeds: urlList, peers: [], magnetURI, info, comment: text(decoded.comment), createdBy: text(decoded['created by']) }
}
