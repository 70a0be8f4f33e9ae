// Worker thread: hashes runs of pieces read straight from the files that hold them, one job at a
// time, off the main event loop, so a 1 GiB share does not stall the UI.
import { parentPort } from 'node:worker_threads'
import type { HashJob, HashWorkerMessage } from './piece-hasher.ts'
import { hashRun, syncPieceFiles } from './piece-run.ts'

const port = parentPort!
// One read buffer for every batch: a new piece-sized buffer per batch was garbage that V8 frees
// late (about 10 MiB more peak RSS for a 512 MiB share).
let scratch: Buffer | null = null

async function hashJob (job: HashJob): Promise<HashWorkerMessage> {
  const files = syncPieceFiles(job.files)
  if (!scratch || scratch.length < job.pieceLength) scratch = Buffer.allocUnsafe(job.pieceLength)
  try {
    const { digests, ok } = await hashRun(job, files, () => {}, scratch)
    return { digests, ok }
  } finally {
    files.close()
  }
}

// A worker kept between jobs (HashPool) gives its read buffer back once idle: a piece can be 16 MiB.
const IDLE_MS = 2000
let idleTimer: NodeJS.Timeout | null = null
function releaseScratch (): void {
  // transfer() is ES2024, past the project's lib; Node has it. Detaching frees the memory now.
  try { (scratch?.buffer as (ArrayBuffer & { transfer: (n: number) => ArrayBuffer }) | undefined)?.transfer(0) } catch { /* not detachable: the collector frees it */ }
  scratch = null
}

port.on('message', (job: HashJob) => {
  if (idleTimer) clearTimeout(idleTimer)
  void hashJob(job).then((m) => {
    port.postMessage(m)
    idleTimer = setTimeout(releaseScratch, IDLE_MS)
    idleTimer.unref()
  })
})
