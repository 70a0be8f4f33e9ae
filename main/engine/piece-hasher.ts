// SHA-1 piece hashing on worker threads, one contiguous run of pieces per worker.
// Hand-written because create-torrent hashes on the calling thread (event loop stalls, and it is
// three times slower than mktorrent here) and has no way to verify only chosen pieces.
import { Worker } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import { open, type FileHandle } from 'node:fs/promises'
import { hashRun } from './piece-run.ts'

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
export type HashWorkerMessage =
  | { type: 'progress'; bytes: number }
  | { type: 'done'; digests: Uint8Array; ok: boolean[] }

// In a packaged app the worker script is unpacked beside the asar (electron-builder asarUnpack):
// worker threads cannot start a script from inside an archive.
const workerUrl = new URL(
  new URL(import.meta.url.endsWith('.ts') ? './hash-worker.ts' : './hash-worker.js', import.meta.url).href.replace('/app.asar/', '/app.asar.unpacked/')
)

/**
 * Below this many bytes a job is hashed on the calling thread: starting a worker (a new V8
 * isolate, ~30 ms and several MiB) costs more than hashing a few MiB, and sharing hundreds of
 * small files one by one would otherwise start hundreds of workers. 4 MiB of SHA-1 is ~3 ms.
 */
const INLINE_BYTES = 4 * 1024 * 1024

async function runInline (job: HashJob, onBytes: (n: number) => void): Promise<{ digests: Uint8Array; ok: boolean[] }> {
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

function runJob (job: HashJob, onBytes: (n: number) => void): Promise<{ digests: Uint8Array; ok: boolean[] }> {
  const bytes = Math.min(job.totalLength - job.first * job.pieceLength, job.count * job.pieceLength)
  if (bytes <= INLINE_BYTES) return runInline(job, onBytes)
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl, { workerData: job })
    let result: { digests: Uint8Array; ok: boolean[] } | null = null
    worker.on('message', (m: HashWorkerMessage) => {
      if (m.type === 'progress') onBytes(m.bytes)
      else result = { digests: m.digests, ok: m.ok }
    })
    worker.once('error', reject)
    worker.once('exit', (code) => {
      if (result) resolve(result)
      else reject(new Error(`hash worker exited with code ${code}`))
    })
  })
}

export interface HashProgress { hashedBytes: number; totalBytes: number }

function pieceBytes (index: number, pieceLength: number, totalLength: number): number {
  return Math.min(pieceLength, totalLength - index * pieceLength)
}

/** Splits [0, n) pieces into contiguous runs, one per worker. */
function runs (indices: number[], workers: number): Array<{ first: number; count: number; at: number }> {
  // indices are sorted; group consecutive ones, then cut into about `workers` balanced batches.
  const groups: Array<{ first: number; count: number; at: number }> = []
  let at = 0
  while (at < indices.length) {
    let end = at + 1
    while (end < indices.length && indices[end] === indices[end - 1]! + 1) end++
    groups.push({ first: indices[at]!, count: end - at, at })
    at = end
  }
  const target = Math.ceil(indices.length / workers)
  const out: Array<{ first: number; count: number; at: number }> = []
  for (const g of groups) {
    for (let off = 0; off < g.count; off += target) out.push({ first: g.first + off, count: Math.min(target, g.count - off), at: g.at + off })
  }
  return out
}

async function pool<T> (tasks: Array<() => Promise<T>>, size: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length)
  let next = 0
  await Promise.all(Array.from({ length: Math.min(size, tasks.length) }, async () => {
    while (next < tasks.length) { const i = next++; results[i] = await tasks[i]!() }
  }))
  return results
}

function threads (): number {
  return Math.max(1, Math.min(availableParallelism(), 8))
}

/** Hashes every piece of the files, in order: returns the concatenated 20-byte digests. */
export async function hashPieces (files: HashFile[], pieceLength: number, onProgress?: (p: HashProgress) => void): Promise<Uint8Array> {
  const totalLength = files.reduce((s, f) => s + f.length, 0)
  const count = Math.ceil(totalLength / pieceLength)
  const indices = Array.from({ length: count }, (_, i) => i)
  const out = new Uint8Array(count * 20)
  let hashed = 0
  const parts = runs(indices, threads())
  await pool(parts.map((r) => async () => {
    const { digests } = await runJob({ files, pieceLength, totalLength, first: r.first, count: r.count }, (n) => {
      hashed += n
      onProgress?.({ hashedBytes: hashed, totalBytes: totalLength })
    })
    out.set(digests, r.first * 20)
  }), threads())
  return out
}

/** Checks chosen pieces against their expected hashes; returns the indices that match. */
export async function verifyPieces (files: HashFile[], pieceLength: number, hashes: Uint8Array, indices: number[], onProgress?: (p: HashProgress) => void): Promise<number[]> {
  const totalLength = files.reduce((s, f) => s + f.length, 0)
  const sorted = [...new Set(indices)].sort((a, b) => a - b)
  const totalBytes = sorted.reduce((s, i) => s + pieceBytes(i, pieceLength, totalLength), 0)
  let hashed = 0
  const good: number[] = []
  const parts = runs(sorted, threads())
  await pool(parts.map((r) => async () => {
    const expected = hashes.slice(r.first * 20, (r.first + r.count) * 20)
    const { ok } = await runJob({ files, pieceLength, totalLength, first: r.first, count: r.count, expected }, (n) => {
      hashed += n
      onProgress?.({ hashedBytes: hashed, totalBytes })
    })
    ok.forEach((v, k) => { if (v) good.push(r.first + k) })
  }), threads())
  return good.sort((a, b) => a - b)
}
