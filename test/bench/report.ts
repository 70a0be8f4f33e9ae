// Result shapes, medians, and the printed tables.
import type { ProcFigures } from './measure.ts'
import type { ScaleFigures } from './scale.ts'
import type { Cipher } from '../interop/helpers/qbittorrent.ts'
import type { Transport } from './clients.ts'

/** `cipherSeen`: the payload cipher of each connection, as a qBittorrent in the pair reported it mid-transfer. */
export interface PairRun { totalS: number; ttfbS: number; mibPerS: number; firstToDoneMiBPerS: number; cipherSeen: Cipher[] | null; downloader: ProcFigures; seeder: ProcFigures }

export interface PairResult {
  pair: string
  seeder: string
  downloader: string
  /** The payload cipher the two negotiate (see pairCipher), and what qBittorrent reported over all rounds. */
  cipher: Cipher
  /** uTP when either side speaks only uTP (see pairTransport). */
  transport: Transport
  cipherSeen: Cipher[]
  /** Successful runs (medians are over these). */
  runs: number
  errors: string[]
  /** Throughput over the middle 80 % of the bytes (see steadyMiBPerS in bench.ts). */
  mibPerS: number
  /** Lowest and highest round of mibPerS: single rounds on this 2-core VM spread widely. */
  mibPerSRange: [number, number]
  /** The file's size over first byte -> done (includes each client's completion tail). */
  firstToDoneMiBPerS: number
  ttfbS: number
  totalS: number
  downloaderPeakRssMiB: number
  downloaderCpuS: number
  seederPeakRssMiB: number
  seederCpuS: number
  /** Throughput / qBittorrent -> qBittorrent throughput with the same cipher and transport, when that pair was measured. */
  ratioToQbit: number | null
  samples: PairRun[]
}

/** Medians over `runs` rounds. */
export interface ShareResult { tool: string; seconds: number; peakRssMiB: number; cpuS: number; runs: number; ratioToMktorrent?: number | null }

export function median (xs: number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

function table (head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!)).join(' | ')} |`
  return [line(head), `|${w.map((n, i) => (i === 0 ? '-' : '-').repeat(n + 1) + (i === 0 ? '-' : ':')).join('|')}|`, ...rows.map(line)].join('\n')
}

const f = (n: number, d = 1) => Number.isFinite(n) ? n.toFixed(d) : '-'

const CIPHER_LABEL: Record<Cipher, string> = { rc4: 'RC4', plain: 'plain' }

/** The expected payload cipher, and what qBittorrent saw when that was not just it. */
function payloadCell (r: PairResult): string {
  const label = CIPHER_LABEL[r.cipher]
  const seen = r.cipherSeen
  return seen.length === 0 || (seen.length === 1 && seen[0] === r.cipher) ? label : `${label} (seen: ${seen.map((c) => CIPHER_LABEL[c]).join(', ')})`
}

export function pairTable (rs: PairResult[], base: string | null): string {
  return table(
    ['seeder -> downloader', 'payload', 'MiB/s (10-90 %)', 'rounds MiB/s', `x ${base ? 'qBit, same payload and transport' : '(no qBit)'}`, 'MiB/s first byte -> done', 'first byte s', 'total s', 'dl peak RSS MiB', 'dl CPU s', 'seed peak RSS MiB', 'seed CPU s', 'runs'],
    rs.map((r) => [r.pair, payloadCell(r), f(r.mibPerS), `${f(r.mibPerSRange[0], 0)}-${f(r.mibPerSRange[1], 0)}`, r.ratioToQbit === null ? '-' : f(r.ratioToQbit, 2), f(r.firstToDoneMiBPerS), f(r.ttfbS, 2), f(r.totalS, 2),
      f(r.downloaderPeakRssMiB), f(r.downloaderCpuS, 2), f(r.seederPeakRssMiB), f(r.seederCpuS, 2), r.errors.length ? `${r.runs} (${r.errors.length} failed)` : String(r.runs)]))
}

export function shareTable (rs: ShareResult[], sizeMiB: number): string {
  return table([`time to share ${sizeMiB} MiB`, 'seconds', 'x mktorrent -t 1', 'peak RSS MiB', 'CPU s', 'runs'],
    rs.map((r) => [r.tool, f(r.seconds, 2), r.ratioToMktorrent == null ? '-' : f(r.ratioToMktorrent, 2), f(r.peakRssMiB), f(r.cpuS, 2), String(r.runs)]))
}

export function scaleTable (s: ScaleFigures): string {
  const r = s.restart
  const i = s.idle
  return table(['many torrents (shoal serve)', 'figure'], [
    [`restart with ${r.torrents} complete torrents (${f(r.payloadMiB, 0)} MiB) to all seeding`, `${f(r.secondsToAllSeeding, 2)} s`],
    ['  payload files read during that restart', String(r.filesRead)],
    ['  peak RSS during that restart', `${f(r.peakRssMiB)} MiB`],
    [`${i.torrents} idle torrents: RSS (peak)`, `${f(i.rssMiB)} MiB (${f(i.peakRssMiB)})`],
    [`${i.torrents} idle torrents: CPU over ${i.windowS} s`, `${f(i.cpuPercent, 2)} % of a core`]
  ])
}
