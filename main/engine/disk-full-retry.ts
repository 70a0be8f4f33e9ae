// A download that fills its disk is stopped, not given up: it keeps every piece verified so far
// and starts again by itself once its folder has room, whether the disk filled in this run or an
// earlier one. If the disk fills again it stops again, keeping what it has.
import { statfs } from 'node:fs/promises'
import type { WtTorrent } from 'webtorrent'
import { EngineError } from './errors.ts'
import type { ResumeData } from './resume.ts'

/** How often a download stopped by a full disk checks whether space was freed. */
const DISK_RETRY_MS = 2000
/** Room for this many pieces is enough to go on (or for what is left, when that is less). */
const ROOM_PIECES = 4

/** What a download stopped by a full disk shows: that it is waiting, not failed. */
export function diskFullError (name: string, savePath: string, cause: EngineError): EngineError {
  return new EngineError('DISK_FULL', `The disk is full: "${name}" could not be written in ${savePath}. ` +
    'The download is paused and will resume by itself once space is freed there.', { cause })
}

export interface KeptPieces {
  /** A copy: the torrent's own bitfield goes with it. */
  bits: Uint8Array
  /**
   * Resume data to show at once, so the stopped download's progress does not dip until the real
   * one is captured. No file stamps: a restore meanwhile hashes the pieces on disk, not trusts them.
   */
  interim: ResumeData
}

/** The pieces verified so far by a torrent about to be destroyed; null before it has a bitfield. */
export function keepVerified (wt: WtTorrent, fileCount: number): KeptPieces | null {
  if (!wt.bitfield) return null
  const bits = new Uint8Array(wt.bitfield.buffer).slice()
  const files = Array.from({ length: fileCount }, () => null)
  return { bits, interim: { bitfield: Buffer.from(bits).toString('base64'), files, savedAt: Date.now() } }
}

/** What the retry needs of the engine; T is its per-torrent state. */
export interface DiskFullHost<T extends object> {
  /** Read lazily: the retry awaits between torrents, and the list may change meanwhile. */
  torrents (): Iterable<T>
  /** Stopped by a full disk, with metadata, and neither paused, running nor starting. */
  waiting (t: T): boolean
  folder (t: T): string
  pieceLength (t: T): number
  /** The bytes it still wants; an estimate is enough. */
  bytesLeft (t: T): number
  restart (t: T): Promise<void>
}

export class DiskFullRetry<T extends object> {
  private readonly host: DiskFullHost<T>
  private timer: NodeJS.Timeout | null = null
  private stopped = false
  /** Torrents whose disk is being looked at: a slow statfs or restart must not be started twice. */
  private readonly busy = new WeakSet<T>()

  constructor (host: DiskFullHost<T>) { this.host = host }

  start (): void {
    this.timer = setInterval(() => { void this.retry() }, DISK_RETRY_MS)
    this.timer.unref()
  }

  stop (): void {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
  }

  private async retry (): Promise<void> {
    if (this.stopped) return
    const h = this.host
    for (const t of h.torrents()) {
      if (!h.waiting(t) || this.busy.has(t)) continue
      this.busy.add(t)
      try {
        const fs = await statfs(h.folder(t))
        const free = fs.bavail * fs.bsize
        if (free < Math.min(h.bytesLeft(t), ROOM_PIECES * h.pieceLength(t))) continue
        if (this.stopped || !h.waiting(t)) continue
        await h.restart(t)
      } catch {
        // The folder is unreachable for now (an unmounted disk): try again on the next round.
      } finally {
        this.busy.delete(t)
      }
    }
  }
}
