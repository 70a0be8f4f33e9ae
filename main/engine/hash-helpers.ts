// A hash worker thread that takes one batch of pieces after another, so the calling thread can hand
// batches to whichever worker is free.
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
      p?.resolve({ digests: Buffer.from(m.digests.buffer, m.digests.byteOffset, m.digests.byteLength), ok: m.ok })
    })
    this.worker.on('error', (err) => this.fail(err))
    this.worker.on('exit', (code) => this.fail(new Error(`hash worker exited with code ${code}`)))
  }

  private fail (err: Error): void {
    this.broken = true
    this.pending?.reject(err)
    this.pending = null
  }

  run (job: HashJob): Promise<RunResult> {
    if (this.broken) return Promise.reject(new Error('hash worker is gone'))
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject }
      this.worker.postMessage(job)
    })
  }

  end (): void { void this.worker.terminate() }
}
