// Hash worker threads, kept for a while after a job so that the next share or check does not pay
// for starting them again (a worker is a new isolate: ~25 ms of a core each, here).
import { Worker } from 'node:worker_threads'
import type { HashJob, HashWorkerMessage } from './piece-hasher.ts'
import type { RunResult } from './piece-run.ts'

// In a packaged app the worker script is unpacked beside the asar (electron-builder asarUnpack):
// worker threads cannot start a script from inside an archive.
const workerUrl = new URL(
  new URL(import.meta.url.endsWith('.ts') ? './hash-worker.ts' : './hash-worker.js', import.meta.url).href.replace('/app.asar/', '/app.asar.unpacked/')
)

/** Idle workers end after this long; an idle worker holds a few MiB. */
const IDLE_MS = 15_000

export class HashHelper {
  private readonly worker = new Worker(workerUrl)
  private pending: { resolve: (r: RunResult) => void; reject: (e: Error) => void } | null = null
  private signalReady!: () => void
  private signalFailed!: (e: Error) => void
  broken = false
  readonly ready = new Promise<void>((resolve, reject) => { this.signalReady = resolve; this.signalFailed = reject })

  constructor () {
    this.ready.catch(() => {}) // a failure is reported through run() or to whoever awaits ready
    this.worker.on('message', (m: HashWorkerMessage) => {
      if (m.type === 'ready') { this.signalReady(); return }
      const p = this.pending
      this.pending = null
      p?.resolve({ digests: Buffer.from(m.digests.buffer, m.digests.byteOffset, m.digests.byteLength), ok: m.ok })
    })
    this.worker.on('error', (err) => this.fail(err))
    this.worker.on('exit', (code) => this.fail(new Error(`hash worker exited with code ${code}`)))
  }

  private fail (err: Error): void {
    this.broken = true
    this.signalFailed(err)
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

  /** A worker at work keeps the process alive; an idle one does not. */
  hold (held: boolean): void {
    if (held) this.worker.ref()
    else this.worker.unref()
  }

  end (): void { void this.worker.terminate() }
}

const idle: HashHelper[] = []
let idleTimer: NodeJS.Timeout | null = null

/** n workers: idle ones first (already started), then new ones. */
export function checkoutHelpers (n: number): HashHelper[] {
  if (idleTimer) { clearTimeout(idleTimer); idleTimer = null }
  const out = idle.splice(0, n)
  while (out.length < n) out.push(new HashHelper())
  for (const h of out) h.hold(true)
  return out
}

export function releaseHelpers (helpers: HashHelper[]): void {
  for (const h of helpers) {
    if (h.broken) continue
    h.hold(false)
    idle.push(h)
  }
  if (idleTimer) clearTimeout(idleTimer)
  idleTimer = setTimeout(() => {
    idleTimer = null
    for (const h of idle.splice(0)) h.end()
  }, IDLE_MS)
  idleTimer.unref()
}
