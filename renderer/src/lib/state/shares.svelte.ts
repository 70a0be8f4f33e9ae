// Shares in progress and just finished: upload (browser only), hashing, then the magnet to copy.
import type { ShareProgress } from '../contract.ts'

export interface ShareJob {
  key: number
  /** The engine's job id, once its first progress event arrives. */
  jobId: string | null
  name: string
  phase: 'uploading' | ShareProgress['phase']
  doneBytes: number
  totalBytes: number
  magnetURI: string | null
  infoHash: string | null
  error: string | null
}

let nextKey = 1
export const shares = $state<{ jobs: ShareJob[] }>({ jobs: [] })

/** The engine names a share after its items the same way: "a.txt, b.txt". */
export function shareName (paths: string[]): string {
  return paths.map((p) => p.split(/[\\/]/).pop()).join(', ')
}

export function startJob (name: string): ShareJob {
  const job: ShareJob = { key: nextKey++, jobId: null, name, phase: 'uploading', doneBytes: 0, totalBytes: 0, magnetURI: null, infoHash: null, error: null }
  shares.jobs.push(job)
  return shares.jobs[shares.jobs.length - 1]!
}

export function onShareProgress (p: ShareProgress): void {
  let job = shares.jobs.find((j) => j.jobId === p.jobId) ??
    shares.jobs.find((j) => j.jobId === null && j.name === p.name && j.phase !== 'done' && j.phase !== 'error')
  if (!job) job = startJob(p.name)
  job.jobId = p.jobId
  job.name = p.name
  // The call's own result (with the magnet) may land first; do not step back from it.
  if (job.phase === 'done') return
  job.phase = p.phase
  job.doneBytes = p.hashedBytes
  job.totalBytes = p.totalBytes
  if (p.infoHash) job.infoHash = p.infoHash
  if (p.error) job.error = p.error
}

export function dismissJob (key: number): void {
  shares.jobs = shares.jobs.filter((j) => j.key !== key)
}
