// Hashes one contiguous run of pieces, reading them from the files that hold them. Shared by the
// hash worker (synchronous reads, off the event loop) and the calling thread (asynchronous reads,
// for jobs too small to be worth a thread; synchronous ones between turns of its event loop when it
// helps the workers in `shoal create`).
import { createHash } from 'node:crypto'
import { openSync, readSync, closeSync } from 'node:fs'
import type { HashJob } from './piece-hasher.ts'

export interface PieceFiles {
  /** Reads into buf at bufOffset; 0 at end of file. Throws or returns null fd when unreadable. */
  read: (file: number, buf: Buffer, bufOffset: number, length: number, position: number) => number | Promise<number>
  /** Whether file i can be read at all (missing files count as absent bytes, not errors). */
  readable: (file: number) => boolean | Promise<boolean>
}

export interface RunResult { digests: Buffer; ok: boolean[] }

/** The job's files opened when first read, with blocking reads: for a thread that does nothing else meanwhile, or yields between pieces. */
export function syncPieceFiles (files: HashJob['files']): PieceFiles & { close: () => void } {
  const fds = new Map<number, number | null>()
  const fdOf = (i: number): number | null => {
    if (!fds.has(i)) {
      try { fds.set(i, openSync(files[i]!.path, 'r')) } catch { fds.set(i, null) }
    }
    return fds.get(i)!
  }
  return {
    readable: (f) => fdOf(f) !== null,
    read: (f, buf, off, len, pos) => readSync(fdOf(f)!, buf, off, len, pos),
    close: () => { for (const fd of fds.values()) if (fd !== null) closeSync(fd) }
  }
}

/**
 * `scratch`: a buffer of at least one piece to read into, reused across runs by a worker.
 * `betweenPieces`: awaited after each piece, so a calling thread can let its event loop run.
 */
export async function hashRun (job: HashJob, io: PieceFiles, onBytes: (n: number) => void, scratch?: Buffer,
  betweenPieces?: () => Promise<unknown>): Promise<RunResult> {
  const buf = scratch && scratch.length >= job.pieceLength ? scratch : Buffer.allocUnsafe(job.pieceLength)
  const digests = Buffer.alloc(job.count * 20)
  const ok: boolean[] = []
  let fileIdx = 0
  for (let k = 0; k < job.count; k++) {
    const index = job.first + k
    const start = index * job.pieceLength
    const end = Math.min(start + job.pieceLength, job.totalLength)
    let pos = start
    let complete = true
    while (fileIdx < job.files.length && job.files[fileIdx]!.offset + job.files[fileIdx]!.length <= pos) fileIdx++
    let f = fileIdx
    while (pos < end && f < job.files.length) {
      const file = job.files[f]!
      const fileEnd = file.offset + file.length
      if (fileEnd <= pos) { f++; continue }
      const want = Math.min(end, fileEnd) - pos
      let got = 0
      if (await io.readable(f)) {
        while (got < want) {
          const n = await io.read(f, buf, pos - start + got, want - got, pos - file.offset + got)
          if (n === 0) break
          got += n
        }
      }
      if (got < want) complete = false
      pos += want
      f++
    }
    const digest = createHash('sha1').update(buf.subarray(0, end - start)).digest()
    digest.copy(digests, k * 20)
    if (job.expected) ok.push(complete && digest.equals(Buffer.from(job.expected.buffer, job.expected.byteOffset + k * 20, 20)))
    onBytes(end - start)
    if (betweenPieces) await betweenPieces()
  }
  return { digests, ok }
}
