// Resume data: which pieces were verified, and each file's size and modification time when that
// was saved. On restart a piece is trusted without reading it only when every file it touches is
// unchanged; pieces touching a changed file are hashed again; pieces whose bytes are not on disk
// are simply missing. So a clean restart reads no file content, and a crash re-reads only what
// was being written.
import { stat } from 'node:fs/promises'

export interface FileStamp { size: number; mtimeMs: number }
export interface ResumeData {
  /** Verified pieces, MSB first (webtorrent's bitfield layout), base64. */
  bitfield: string
  files: Array<FileStamp | null>
  savedAt: number
}
export interface DiskFile { diskPath: string; offset: number; length: number }

export async function stampFiles (files: DiskFile[]): Promise<Array<FileStamp | null>> {
  return Promise.all(files.map(async (f) => {
    try {
      const st = await stat(f.diskPath)
      return { size: st.size, mtimeMs: st.mtimeMs }
    } catch {
      return null
    }
  }))
}

export async function captureResume (files: DiskFile[], bitfield: Uint8Array): Promise<ResumeData> {
  return { bitfield: Buffer.from(bitfield).toString('base64'), files: await stampFiles(files), savedAt: Date.now() }
}

export function bitfieldBytes (pieceCount: number): number {
  return Math.ceil(pieceCount / 8)
}
export function getBit (bits: Uint8Array, i: number): boolean {
  return ((bits[i >> 3] ?? 0) & (128 >> (i & 7))) !== 0
}
export function setBit (bits: Uint8Array, i: number): void {
  bits[i >> 3] = (bits[i >> 3] ?? 0) | (128 >> (i & 7))
}
export function countBits (bits: Uint8Array, pieceCount: number): number {
  let n = 0
  for (let i = 0; i < pieceCount; i++) if (getBit(bits, i)) n++
  return n
}

export interface RestorePlan {
  /** Pieces trusted from the saved bitfield (all files they touch unchanged). */
  trusted: Uint8Array
  /** Pieces whose bytes are on disk but must be hashed again. */
  toVerify: number[]
  changedFiles: number[]
}

const TRUST = 0
const VERIFY = 1
const MISSING = 2

/**
 * Plans a restore. With no resume data every piece whose bytes exist on disk is verified
 * (a .torrent added over data that is already there).
 */
export async function planRestore (files: DiskFile[], pieceLength: number, pieceCount: number, resume: ResumeData | null): Promise<RestorePlan> {
  const now = await stampFiles(files)
  const saved = resume ? new Uint8Array(Buffer.from(resume.bitfield, 'base64')) : null
  const usable = saved && saved.length === bitfieldBytes(pieceCount) && resume!.files.length === files.length
  const state = new Uint8Array(pieceCount) // TRUST by default
  const changedFiles: number[] = []
  files.forEach((f, i) => {
    if (f.length === 0) return
    const was = usable ? resume!.files[i] : null
    const cur = now[i]
    // Whole milliseconds: copies and restores of a file (utimes, cp -p) keep no more than that.
    const unchanged = !!was && !!cur && was.size === cur.size && Math.trunc(was.mtimeMs) === Math.trunc(cur.mtimeMs)
    if (unchanged) return
    changedFiles.push(i)
    const first = Math.floor(f.offset / pieceLength)
    const last = Math.floor((f.offset + f.length - 1) / pieceLength)
    for (let p = first; p <= last; p++) {
      // Bytes of piece p that live in this file, relative to the file's start.
      const needEnd = Math.min((p + 1) * pieceLength, f.offset + f.length) - f.offset
      const onDisk = !!cur && cur.size >= needEnd
      state[p] = Math.max(state[p]!, onDisk ? VERIFY : MISSING)
    }
  })
  const trusted = new Uint8Array(bitfieldBytes(pieceCount))
  const toVerify: number[] = []
  for (let p = 0; p < pieceCount; p++) {
    if (state[p] === TRUST) { if (usable && getBit(saved!, p)) setBit(trusted, p) } else if (state[p] === VERIFY) toVerify.push(p)
  }
  return { trusted, toVerify, changedFiles }
}
