// Shared by the load and churn tests: many tiny real shares (files on disk and their .torrent
// files), the peers process (load-peers.ts), and the figures (percentiles, a regression slope).
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import bencode from 'bencode'
import { waitFor } from '../helpers/fixtures.ts'

export interface TinyShare { index: number; infoHash: string; base64: string; name: string }

/** `n` files of a few KiB under dir/data, each with a one-piece single-file .torrent under dir/torrents. */
export function makeShares (dir: string, n: number): { dataDir: string; torrentsDir: string; shares: TinyShare[] } {
  const dataDir = join(dir, 'data')
  const torrentsDir = join(dir, 'torrents')
  mkdirSync(dataDir, { recursive: true })
  mkdirSync(torrentsDir, { recursive: true })
  const shares: TinyShare[] = []
  for (let i = 0; i < n; i++) {
    const name = `tiny-${i}.bin`
    const data = randomBytes(1024 + (i % 16) * 512)
    writeFileSync(join(dataDir, name), data)
    const info = { length: data.length, name: Buffer.from(name), 'piece length': 16384, pieces: createHash('sha1').update(data).digest() }
    const infoHash = createHash('sha1').update(bencode.encode(info)).digest('hex')
    const torrent = Buffer.from(bencode.encode({ info, 'created by': Buffer.from('shoal-load-test') }))
    writeFileSync(join(torrentsDir, `${i}.torrent`), torrent)
    shares.push({ index: i, infoHash, base64: torrent.toString('base64'), name })
  }
  return { dataDir, torrentsDir, shares }
}

export interface Peers {
  child: ChildProcess
  /** Open wires over all peer clients, as last reported. */
  wires(): number
  join(client: string, indices: number[]): void
  leave(client: string): void
  stop(): Promise<void>
}

const PEERS_SCRIPT = resolve(import.meta.dirname, 'load-peers.ts')

export function startPeers (dir: string, enginePort: number, torrentsDir: string): Peers {
  mkdirSync(dir, { recursive: true })
  const child = spawn(process.execPath, [PEERS_SCRIPT, dir, String(enginePort), torrentsDir], { stdio: ['pipe', 'pipe', 'pipe'] })
  let wires = 0
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const m = /^wires (\d+)$/.exec(l)
    if (m) wires = Number(m[1])
  })
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  return {
    child,
    wires: () => wires,
    join: (client, indices) => { child.stdin!.write(`join ${client} ${indices.join(',')}\n`) },
    leave: (client) => { child.stdin!.write(`leave ${client}\n`) },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.stdin!.write('quit\n')
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(t)
      if (stderr && process.env.SHOAL_DEBUG) console.error(stderr)
    }
  }
}

export async function waitForWires (what: string, n: () => number, atLeast: number, timeoutMs: number): Promise<void> {
  await waitFor(what, () => n() >= atLeast, timeoutMs, 250)
}

export function percentile (xs: number[], p: number): number {
  if (!xs.length) return 0
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

/** Least-squares slope of y over x. */
export function slope (points: Array<[number, number]>): number {
  const n = points.length
  if (n < 2) return 0
  const mx = points.reduce((a, [x]) => a + x, 0) / n
  const my = points.reduce((a, [, y]) => a + y, 0) / n
  let num = 0
  let den = 0
  for (const [x, y] of points) { num += (x - mx) * (y - my); den += (x - mx) ** 2 }
  return den ? num / den : 0
}

export const mib = (b: number): string => (b / 1048576).toFixed(1)
export const ms = (x: number): string => x.toFixed(1)
