// Worker thread: hashes a run of pieces read straight from the files that hold them.
// Runs off the main event loop so a 1 GiB share does not stall the UI.
import { parentPort, workerData } from 'node:worker_threads'
import { openSync, readSync, closeSync } from 'node:fs'
import type { HashJob, HashWorkerMessage } from './piece-hasher.ts'
import { hashRun } from './piece-run.ts'

const job = workerData as HashJob
const port = parentPort!
const fds = new Map<number, number | null>()
function fdOf (i: number): number | null {
  if (!fds.has(i)) {
    try { fds.set(i, openSync(job.files[i]!.path, 'r')) } catch { fds.set(i, null) }
  }
  return fds.get(i)!
}

let sinceReport = 0
const { digests, ok } = await hashRun(job, {
  readable: (f) => fdOf(f) !== null,
  read: (f, buf, off, len, pos) => readSync(fdOf(f)!, buf, off, len, pos)
}, (n) => {
  sinceReport += n
  if (sinceReport >= 8 * 1024 * 1024) { port.postMessage({ type: 'progress', bytes: sinceReport } satisfies HashWorkerMessage); sinceReport = 0 }
})
for (const fd of fds.values()) if (fd !== null) closeSync(fd)
port.postMessage({ type: 'progress', bytes: sinceReport } satisfies HashWorkerMessage)
port.postMessage({ type: 'done', digests, ok } satisfies HashWorkerMessage)
