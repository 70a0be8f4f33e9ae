// SHA-1 piece hashing on worker threads, batches handed to whichever thread is free.
// Hand-written because create-torrent hashes on the calling thread (event loop stalls, and it is
// three times slower than mktorrent here) and has no way to verify only chosen pieces.
import { availableParallelism } from 'node:os'
import { open, type FileHandle } from 'node:fs/promises'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { hashRun, syncPieceFiles, type RunResult } from './piece-run.ts'
import { HashPool } from './hash-helpers.ts'

export interface HashFile { path: string; offset: number; length: number }
export interface HashJob {
  files: HashFile[]
  pieceLength: number
  totalLength: number
  first: number
  count: number
  /** When verifying: the expected hashes of pieces first..first+count-1. */
  expected?: Uint8Array
}
export interface HashWorkerMessage { digests: Uint8Array; ok: boolean[] }

export interface HashProgress { hashedBytes: number; totalBytes: number }

export interface HashOptions {
  /**
   * The calling thread hashes too, in place of one worker, yielding to its event loop after each
   * piece. For a process that waits on the hash and nothing else (`shoal create`): its own lane
   * starts at once while the one worker starts up (~80 ms here), and one worker fewer starts.
   */
  callingThreadHelps?: boolean
  /** Where the job's worker threads come from; by default they are started for the job and ended with it. */
  pool?: HashPool
}

/**
 * Below this many bytes a job is hashed on the calling thread: starting a worker (a new V8
 * isolate, ~30 ms and several MiB) costs more than hashing a few MiB, and sharing hundreds of
 * small files one by one would otherwise start hundreds of workers. 4 MiB of SHA-1 is ~3 ms.
 */
const INLINE_BYTES = 4 * 1024 * 1024

/**
 * Work goes out in batches of about this many bytes to whichever thread is free, so all threads
 * finish together (fixed halves left a core idle at the end), and progress is reported per batch.
 */
const BATCH_BYTES = 8 * 1024 * 1024

async function runInline (job: HashJob, onBytes: (n: number) => void): Promise<RunResult> {
  const handles = new Map<number, FileHandle | null>()
  const handle = async (i: number): Promise<FileHandle | null> => {
    if (!handles.has(i)) handles.set(i, await open(job.files[i]!.path, 'r').catch(() => null))
    return handles.get(i)!
  }
  try {
    return await hashRun(job, {
      readable: async (f) => (await handle(f)) !== null,
      read: async (f, buf, off, len, pos) => (await (await handle(f))!.read(buf, off, len, pos)).bytesRead
    }, onBytes)
  } finally {
    await Promise.all([...handles.values()].map((h) => h?.close()))
  }
}

interface Batch { first: number; count: number }

/** Contiguous runs of the sorted indices, cut into batches of about BATCH_BYTES. */
function batchesOf (indices: number[], pieceLength: number): Batch[] {
  const per = Math.max(1, Math.floor(BATCH_BYTES / pieceLength))
  const out: Batch[] = []
  let at = 0
  while (at < indices.length) {
    let end = at + 1
    while (end < indices.length && end - at < per && indices[end] === indices[end - 1]! + 1) end++
    out.push({ first: indices[at]!, count: end - at })
    at = end
  }
  return out
}

export function hashThreads (): number {
  return Math.max(1, Math.min(availableParallelism(), 8))
}

/** Whether the calling thread takes a lane (`callingThreadHelps`, and more than one core to share). */
function callerTakesLane (options: HashOptions): boolean {
  return options.callingThreadHelps === true && hashThreads() > 1
}

/** How many worker threads a big job uses: one per core, less the calling thread's lane if it takes one. */
export function workerLanes (options: HashOptions = {}): number {
  return hashThreads() - (callerTakesLane(options) ? 1 : 0)
}

function pieceBytes (index: number, pieceLength: number, totalLength: number): number {
  return Math.min(pieceLength, totalLength - index * pieceLength)
}

/** The calling thread's lane: blocking reads and hashing, one piece between turns of its event loop. */
async function callingThreadLane (files: HashFile[], pieceLength: number, take: () => Batch | null, jobOf: (b: Batch) => HashJob,
  onBytes: (n: number) => void, onResult: (b: Batch, r: RunResult) => void): Promise<void> {
  const io = syncPieceFiles(files)
  const scratch = Buffer.allocUnsafe(pieceLength)
  try {
    for (let b = take(); b; b = take()) onResult(b, await hashRun(jobOf(b), io, onBytes, scratch, nextTurn))
  } finally {
    io.close()
  }
}

/**
 * Hashes the batches on worker threads, one per core, or one fewer with the calling thread's lane.
 * (The calling thread hashing beside a worker per core gained nothing on 2 cores: both were busy
 * starting the workers.)
 */
async function hashBatches (job: Omit<HashJob, 'first' | 'count' | 'expected'>, batches: Batch[], totalBytes: number,
  expectedOf: ((b: Batch) => Uint8Array) | null, onBytes: (n: number) => void, onResult: (b: Batch, r: RunResult) => void,
  options: HashOptions = {}): Promise<void> {
  let next = 0
  let failed = false
  const take = (): Batch | null => (!failed && next < batches.length ? batches[next++]! : null)
  const jobOf = (b: Batch): HashJob => ({ ...job, first: b.first, count: b.count, ...(expectedOf ? { expected: expectedOf(b) } : {}) })
  const bytesOf = (b: Batch): number => Math.min(job.totalLength, (b.first + b.count) * job.pieceLength) - b.first * job.pieceLength

  if (totalBytes <= INLINE_BYTES) {
    for (let b = take(); b; b = take()) onResult(b, await runInline(jobOf(b), onBytes))
    return
  }
  const callerLane = callerTakesLane(options)
  const pool = options.pool ?? new HashPool(0)
  const helpers = pool.take(Math.min(workerLanes(options), batches.length))
  const lanes = helpers.map(async (h) => {
    for (let b = take(); b; b = take()) {
      onResult(b, await h.run(jobOf(b)))
      onBytes(bytesOf(b))
    }
  })
  if (callerLane) lanes.push(callingThreadLane(job.files, job.pieceLength, take, jobOf, onBytes, onResult))
  const settled = await Promise.allSettled(lanes.map((l) => l.catch((err: unknown) => { failed = true; throw err })))
  pool.give(helpers)
  const failure = settled.find((s) => s.status === 'rejected')
  if (failure) throw (failure as PromiseRejectedResult).reason
}

/** Hashes every piece of the files, in order: returns the concatenated 20-byte digests. */
export async function hashPieces (files: HashFile[], pieceLength: number, onProgress?: (p: HashProgress) => void, options?: HashOptions): Promise<Uint8Array> {
  const totalLength = files.reduce((s, f) => s + f.length, 0)
  const count = Math.ceil(totalLength / pieceLength)
  const out = new Uint8Array(count * 20)
  let hashed = 0
  await hashBatches({ files, pieceLength, totalLength }, batchesOf(Array.from({ length: count }, (_, i) => i), pieceLength), totalLength, null,
    (n) => { hashed += n; onProgress?.({ hashedBytes: hashed, totalBytes: totalLength }) },
    (b, r) => out.set(r.digests, b.first * 20), options)
  return out
}

/** Checks chosen pieces against their expected hashes; returns the indices that match. */
export async function verifyPieces (files: HashFile[], pieceLength: number, hashes: Uint8Array, indices: number[], onProgress?: (p: HashProgress) => void,
  options?: HashOptions): Promise<number[]> {
  const totalLength = files.reduce((s, f) => s + f.length, 0)
  const sorted = [...new Set(indices)].sort((a, b) => a - b)
  const totalBytes = sorted.reduce((s, i) => s + pieceBytes(i, pieceLength, totalLength), 0)
  let hashed = 0
  const good: number[] = []
  await hashBatches({ files, pieceLength, totalLength }, batchesOf(sorted, pieceLength), totalBytes,
    // a copy, not a view: a view would send the whole hashes buffer to the worker with each batch
    (b) => hashes.slice(b.first * 20, (b.first + b.count) * 20),
    (n) => { hashed += n; onProgress?.({ hashedBytes: hashed, totalBytes }) },
    (b, r) => r.ok.forEach((v, k) => { if (v) good.push(b.first + k) }), options)
  return good.sort((a, b) => a - b)
}
