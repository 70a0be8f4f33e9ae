// Builds a .torrent from files and folders on disk: scan, hash on worker threads with progress,
// bencode. Trackers are written only when the caller names them (webtorrent's own seed() writes
// eight public trackers into every torrent, which leaks private shares).
import { createHash } from 'node:crypto'
import { readdir, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import bencode from 'bencode'
import type { CreateOptions } from '../contract/contract.ts'
import { EngineError, fromFsError } from './errors.ts'
import { hashPieces, type HashOptions, type HashProgress } from './piece-hasher.ts'

export interface ShareFile {
  /** Path inside the torrent, '/'-separated, starting with the torrent name for multi-file torrents. */
  torrentPath: string
  /** Where the bytes are on disk. */
  diskPath: string
  length: number
  offset: number
}

export interface BuiltShare {
  infoHash: string
  torrentFile: Uint8Array
  name: string
  files: ShareFile[]
  pieceLength: number
  pieceCount: number
  length: number
  /** Folder that holds the data when the torrent's layout matches the disk, else null. */
  savePath: string | null
}

const JUNK = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini', '.directory'])
export const CREATED_BY = 'Shoal'

/** Piece length for a total size: about a thousand pieces, 16 KiB to 16 MiB (create-torrent's rule). */
export function autoPieceLength (total: number): number {
  const target = Math.max(16384, 2 ** Math.ceil(Math.log2(Math.max(1, total / 1024))))
  return Math.min(target, 16 * 1024 * 1024)
}

async function statOrThrow (p: string) {
  try { return await stat(p) } catch (err) { throw fromFsError(err, p, 'reading') }
}

async function walk (dir: string, rel: string[], out: Array<{ parts: string[]; diskPath: string; length: number }>): Promise<void> {
  let entries
  try { entries = await readdir(dir, { withFileTypes: true }) } catch (err) { throw fromFsError(err, dir, 'reading') }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const e of entries) {
    if (JUNK.has(e.name)) continue
    const p = join(dir, e.name)
    const st = await statOrThrow(p) // follows links, like mktorrent
    if (st.isDirectory()) await walk(p, [...rel, e.name], out)
    else if (st.isFile()) out.push({ parts: [...rel, e.name], diskPath: p, length: st.size })
  }
}

/** Lists what sharing `paths` would include, in torrent order. */
export async function scanShare (paths: string[], name?: string): Promise<{ name: string; files: ShareFile[]; single: boolean; savePath: string | null }> {
  const abs = paths.map((p) => resolve(p))
  const found: Array<{ parts: string[]; diskPath: string; length: number }> = []
  let single = false
  let torrentName: string
  let savePath: string | null = null
  if (abs.length === 1) {
    const p = abs[0]!
    const st = await statOrThrow(p)
    torrentName = name ?? basename(p)
    if (st.isDirectory()) {
      await walk(p, [], found)
      if (!name) savePath = dirname(p)
    } else if (st.isFile()) {
      single = true
      found.push({ parts: [], diskPath: p, length: st.size })
      if (!name) savePath = dirname(p)
    } else {
      throw new EngineError('PATH_UNREADABLE', `${p} is neither a file nor a folder.`)
    }
  } else {
    torrentName = name ?? `${basename(abs[0]!)} and ${abs.length - 1} more`
    const sorted = [...abs].sort((a, b) => (basename(a) < basename(b) ? -1 : 1))
    const seen = new Set<string>()
    for (const p of sorted) {
      const base = basename(p)
      if (seen.has(base)) throw new EngineError('BAD_ARGUMENT', `Two of the chosen items are both named "${base}"; share them separately or rename one.`)
      seen.add(base)
      const st = await statOrThrow(p)
      if (st.isDirectory()) await walk(p, [base], found)
      else if (st.isFile()) found.push({ parts: [base], diskPath: p, length: st.size })
    }
  }
  if (found.length === 0) throw new EngineError('BAD_ARGUMENT', 'Nothing to share: the chosen folder has no files.')
  // Whole-path byte order, as mktorrent sorts: the same folder gives the same info hash in both.
  const key = (f: { parts: string[] }) => Buffer.from(f.parts.join('/'))
  found.sort((x, y) => Buffer.compare(key(x), key(y)))
  let offset = 0
  const files = found.map((f) => {
    const file: ShareFile = { torrentPath: single ? torrentName : [torrentName, ...f.parts].join('/'), diskPath: f.diskPath, length: f.length, offset }
    offset += f.length
    return file
  })
  if (offset === 0) throw new EngineError('BAD_ARGUMENT', 'Nothing to share: every chosen file is empty.')
  return { name: torrentName, files, single, savePath }
}

export async function buildShare (paths: string[], options: CreateOptions = {}, onProgress?: (p: HashProgress) => void, hashing?: HashOptions): Promise<BuiltShare> {
  const { name, files, single, savePath } = await scanShare(paths, options.name)
  const length = files.reduce((s, f) => s + f.length, 0)
  const pieceLength = options.pieceLength ?? autoPieceLength(length)
  onProgress?.({ hashedBytes: 0, totalBytes: length })
  const pieces = await hashPieces(files.map((f) => ({ path: f.diskPath, offset: f.offset, length: f.length })), pieceLength, onProgress, hashing)
  // Keys in bencode are sorted by the encoder; the info dictionary is what the info hash covers.
  const info: Record<string, unknown> = {
    name: Buffer.from(name),
    'piece length': pieceLength,
    pieces
  }
  if (single) info.length = files[0]!.length
  else info.files = files.map((f) => ({ length: f.length, path: f.torrentPath.split('/').slice(1).map((s) => Buffer.from(s)) }))
  if (options.private) info.private = 1
  const torrent: Record<string, unknown> = { info, 'created by': Buffer.from(CREATED_BY), 'creation date': Math.floor(Date.now() / 1000) }
  const announce = options.announce ?? []
  if (announce.length) {
    torrent.announce = Buffer.from(announce[0]!)
    torrent['announce-list'] = announce.map((a) => [Buffer.from(a)])
  }
  if (options.comment) torrent.comment = Buffer.from(options.comment)
  const infoHash = createHash('sha1').update(bencode.encode(info)).digest('hex')
  return { infoHash, torrentFile: bencode.encode(torrent), name, files, pieceLength, pieceCount: pieces.length / 20, length, savePath }
}
