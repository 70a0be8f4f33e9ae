// Worker thread: hashes a run of pieces read straight from the files that hold them.
// Runs off the main event loop so a 1 GiB share does not stall the UI.
import { parentPort, workerData } from 'node:worker_threads'
import { openSync, readSync, closeSync } from 'node:fs'
import { createHash } from 'node:crypto'
import type { HashJob, HashWorkerMessage } from './piece-hasher.ts'

const job = workerData as HashJob
const port = parentPort!
const fds = new Map<number, number | null>()
function fdOf (i: number): number | null {
  if (!fds.has(i)) {
    try { fds.set(i, openSync(job.files[i]!.path, 'r')) } catch { fds.set(i, null) }
  }
  return fds.get(i)!
}

const buf = Buffer.allocUnsafe(job.pieceLength)
const digests = Buffer.alloc(job.count * 20)
const ok: boolean[] = []
let sinceReport = 0
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
    const fd = fdOf(f)
    let got = 0
    if (fd !== null) {
      while (got < want) {
        const n = readSync(fd, buf, pos - start + got, want - got, pos - file.offset + got)
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
  sinceReport += end - start
  if (sinceReport >= 8 * 1024 * 1024) { port.postMessage({ type: 'progress', bytes: sinceReport } satisfies HashWorkerMessage); sinceReport = 0 }
}
for (const fd of fds.values()) if (fd !== null) closeSync(fd)
port.postMessage({ type: 'progress', bytes: sinceReport } satisfies HashWorkerMessage)
port.postMessage({ type: 'done', digests, ok } satisfies HashWorkerMessage)
