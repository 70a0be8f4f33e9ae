// Hash worker threads: a helper takes one batch of pieces after another, so the calling thread can
// hand batches to whichever helper is free; a pool keeps some of them started between jobs.
import { Worker } from 'node:worker_threads'
import type { HashJob, HashWorkerMessage } from './piece-hasher.ts'
import type { RunResult } from './piece-run.ts'

// In a packaged app the worker script is unpacked beside the asar (electron-builder asarUnpack):
// worker threads cannot start a script from inside an archive.
const workerUrl = new URL(
  new URL(import.meta.url.endsWith('.ts') ? './hash-worker.ts' : './hash-worker.js', import.meta.url).href.replace('/app.asar/', '/app.asar.unpacked/')
)

export class HashHelper {
  private readonly worker = new Worker(workerUrl)
  private pending: { resolve: (r: RunResult) => void; reject: (e: Error) => void } | null = null
  private broken = false

  constructor () {
    // A job posted before the worker has started waits in its port; no start-up handshake needed.
    this.worker.on('message', (m: HashWorkerMessage) => {
      const p = this.pending
      this.pending = null
      this.worker.unref()
      p?.resolve({ digests: Buffer.from(m.digests.buffer, m.digests.byteOffset, m.digests.byteLength), ok: m.ok })
    })
    this.worker.on('error', (err) => this.fail(err))
    this.worker.on('exit', (code) => this.fail(new Error(`hash worker exited with code ${code}`)))
    // Only a job keeps the process alive: a helper kept idle in a pool must not.
    this.worker.unref()
  }

  get usable (): boolean { return !this.broken }

  private fail (err: Error): void {
    this.broken = true
    this.pending?.reject(err)
    this.pending = null
  }

  run (job: HashJob): Promise<RunResult> {
    if (this.broken) return Promise.reject(new Error('hash worker is gone'))
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject }
      this.worker.ref()
      this.worker.postMessage(job)
    })
  }

  end (): void {
    this.broken = true
    void this.worker.terminate()
  }
}

/**
 * Helpers for hash jobs. `keep` of them stay started between jobs (a worker takes 45-120 ms to
 * start here, a third of hashing 512 MiB on two cores, and 13 MiB of RSS to keep); any more a job
 * wants are started for it and ended with it.
 */
export class HashPool {
  private idle: HashHelper[] = []
  private closed = false
  private readonly keep: number

  constructor (keep: number) { this.keep = keep }

  /** Starts the kept helpers now, so the next job does not wait for them. */
  warm (): void {
    this.idle = this.idle.filter((h) => h.usable)
    while (!this.closed && this.idle.length < this.keep) this.idle.push(new HashHelper())
  }

  /** `n` helpers for a job: idle kept ones first. */
  take (n: number): HashHelper[] {
    this.idle = this.idle.filter((h) => h.usable)
    const out = this.idle.splice(0, n)
    while (out.length < n) out.push(new HashHelper())
    return out
  }

  /** A job's helpers back: kept while the pool has room, ended otherwise. */
  give (helpers: HashHelper[]): void {
    for (const h of helpers) {
      if (!this.closed && h.usable && this.idle.length < this.keep) this.idle.push(h)
      else h.end()
    }
  }

  close (): void {
    this.closed = true
    for (const h of this.idle) h.end()
    this.idle = []
  }
}
