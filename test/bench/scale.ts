// Many torrents in one `shoal serve` (as users run it headless): how long a restart takes until
// every complete torrent is seeding again, whether it read any file content to get there, and
// what 500 idle torrents cost in memory and CPU.
//
// "No content read" is checked with access times: before the restart every payload file gets an
// access time in the past (its modification time untouched); the filesystem is mounted relatime,
// so any read during the restart would move the access time to now.
import { statSync, utimesSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { randomFile, waitFor } from '../helpers/fixtures.ts'
import { startServe, WsApi, type Served } from '../e2e/harness.ts'
import type { TorrentSummary } from '../../main/contract/contract.ts'
import { Sampler, currentRssMiB } from './measure.ts'

const MiB = 1024 * 1024

export interface RestartFigures {
  torrents: number
  payloadMiB: number
  /** From spawning the process to every torrent listed as seeding. */
  secondsToAllSeeding: number
  /** Payload files whose access time moved during the restart (0: nothing read). */
  filesRead: number
  peakRssMiB: number
}
export interface IdleFigures {
  torrents: number
  windowS: number
  rssMiB: number
  peakRssMiB: number
  /** CPU over the window, percent of one core. */
  cpuPercent: number
}
export interface ScaleFigures { restart: RestartFigures; idle: IdleFigures }

export interface ScaleOptions {
  dir: string
  /** Torrents in the restart measurement. */
  restartTorrents: number
  /** Torrents idling in the idle measurement (the restart's plus more). */
  idleTorrents: number
  fileBytes: number
  idleWindowS: number
}

async function share (api: WsApi, paths: string[]): Promise<void> {
  // A few at a time: each share hashes on a worker thread.
  let next = 0
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < paths.length) {
      const p = paths[next++]!
      await api.call('torrent.share', { paths: [p] })
    }
  }))
}

async function allSeeding (api: WsApi, n: number, timeoutMs: number): Promise<void> {
  await waitFor(`${n} torrents seeding`, async () => {
    const list = await api.call<TorrentSummary[]>('torrents.list')
    return list.length === n && list.every((t) => t.state === 'seeding')
  }, timeoutMs, 50)
}

function makeFiles (dir: string, from: number, to: number, bytes: number): string[] {
  mkdirSync(dir, { recursive: true })
  const out: string[] = []
  for (let i = from; i < to; i++) out.push(randomFile(join(dir, `item-${String(i).padStart(4, '0')}.bin`), bytes))
  return out
}

const LONG_AGO = new Date('2020-01-01T00:00:00Z')

/** Moves a file's access time to LONG_AGO and keeps its modification time to the millisecond. */
function pastAccessTime (f: string): void {
  // Seconds as a number, not stat's Date: that Date is rounded to the millisecond, which would
  // move the modification time and make the restart re-hash the file for the wrong reason.
  const before = statSync(f).mtimeMs
  utimesSync(f, LONG_AGO, before / 1000)
  const after = statSync(f).mtimeMs
  if (Math.trunc(after) !== Math.trunc(before)) throw new Error(`could not keep the modification time of ${f}: ${before} -> ${after}`)
}

export async function scaleBench (o: ScaleOptions): Promise<ScaleFigures> {
  const data = join(o.dir, 'scale-data')
  const files = join(o.dir, 'scale-files')
  const first = makeFiles(files, 0, o.restartTorrents, o.fileBytes)

  let served: Served | null = await startServe(data)
  let api: WsApi | null = null
  try {
    api = await WsApi.open(served)
    await share(api, first)
    await allSeeding(api, first.length, 600000)
    api.close(); api = null
    await served.stop(); served = null

    for (const f of first) pastAccessTime(f)
    const t0 = performance.now()
    served = await startServe(data)
    const sampler = new Sampler(served.child.pid!, 50)
    api = await WsApi.open(served)
    await allSeeding(api, first.length, 600000)
    const secondsToAllSeeding = (performance.now() - t0) / 1000
    const filesRead = first.filter((f) => statSync(f).atimeMs > LONG_AGO.getTime()).length
    const restart: RestartFigures = {
      torrents: first.length,
      payloadMiB: (first.length * o.fileBytes) / MiB,
      secondsToAllSeeding,
      filesRead,
      peakRssMiB: sampler.stop().peakRssMiB
    }

    const more = makeFiles(files, o.restartTorrents, o.idleTorrents, o.fileBytes)
    await share(api, more)
    await allSeeding(api, o.idleTorrents, 600000)
    // Let the shares' hashing workers and first announces settle before the window opens.
    await new Promise((r) => setTimeout(r, 5000))
    const idleSampler = new Sampler(served.child.pid!, 200)
    idleSampler.mark()
    await new Promise((r) => setTimeout(r, o.idleWindowS * 1000))
    const f = idleSampler.stop()
    const rssMiB = currentRssMiB(served.child.pid!)
    const idle: IdleFigures = {
      torrents: o.idleTorrents,
      windowS: o.idleWindowS,
      rssMiB,
      peakRssMiB: f.peakRssMiB,
      cpuPercent: (f.cpuS / o.idleWindowS) * 100
    }
    return { restart, idle }
  } finally {
    api?.close()
    await served?.stop()
  }
}
