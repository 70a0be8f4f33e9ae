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

port.on('message', (job: HashJob) => {
  void hashJob(job).then((m) => port.postMessage(m))
})
