// Worker thread: hashes runs of pieces read straight from the files that hold them, one job at a
// time, off the main event loop, so a 1 GiB share does not stall the UI.
import { parentPort } from 'node:worker_threads'
import { openSync, readSync, closeSync } from 'node:fs'
import type { HashJob, HashWorkerMessage } from './piece-hasher.ts'
import { hashRun } from './piece-run.ts'

const port = parentPort!
// One read buffer for every batch: a new piece-sized buffer per batch was garbage that V8 frees
// late (about 10 MiB more peak RSS for a 512 MiB share).
let scratch: Buffer | null = null

async function hashJob (job: HashJob): Promise<HashWorkerMessage> {
  const fds = new Map<number, number | null>()
  const fdOf = (i: number): number | null => {
    if (!fds.has(i)) {
      try { fds.set(i, openSync(job.files[i]!.path, 'r')) } catch { fds.set(i, null) }
    }
    return fds.get(i)!
  }
  if (!scratch || scratch.length < job.pieceLength) scratch = Buffer.allocUnsafe(job.pieceLength)
  try {
    const { digests, ok } = await hashRun(job, {
      readable: (f) => fdOf(f) !== null,
      read: (f, buf, off, len, pos) => readSync(fdOf(f)!, buf, off, len, pos)
    }, () => {}, scratch)
    return { digests, ok }
  } finally {
    for (const fd of fds.values()) if (fd !== null) closeSync(fd)
  }
}

port.on('message', (job: HashJob) => {
  void hashJob(job).then((m) => port.postMessage(m))
})
