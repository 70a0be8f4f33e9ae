// `npm run bench`: throughput, time to first byte, peak RSS and CPU of each process for seeder ->
// downloader pairs of Shoal (its CLI, as users run it), raw webtorrent and whichever of
// qbittorrent-nox and aria2c are installed, on the same generated file over 127.0.0.1; plus time to
// share (hash) it. Prints a table and writes .tmp/bench-<timestamp>.json.
// Then many torrents in one `shoal serve`: restart of 100 complete torrents, 500 idle (scale.ts).
//   node test/bench/bench.ts [--size MiB] [--runs N] [--quick] [--only shoal,qbittorrent,aria2,webtorrent]
//                            [--out-dir DIR] [--no-scale | --scale-only]
import { parseArgs } from 'node:util'
import { mkdirSync, rmSync, statSync, writeFileSync, readFileSync, openSync, fsyncSync, closeSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { tempDir, randomFile, sha256File } from '../helpers/fixtures.ts'
import { Procs, startTracker, shoalCommand, firstLine, freePort, hasBinary } from '../interop/helpers/procs.ts'
import { Sampler, timed } from './measure.ts'
import { startServe, WsApi } from '../e2e/harness.ts'
import { CLIENTS, shoal, pairCipher, pairTransport } from './clients.ts'
import type { Cipher } from '../interop/helpers/qbittorrent.ts'
import type { Client, Ctx, Transport } from './clients.ts'
import { median, pairTable, shareTable, scaleTable } from './report.ts'
import { scaleBench, type ScaleFigures } from './scale.ts'
import { roundOrder } from './round-order.ts'
import type { PairResult, ShareResult, PairRun } from './report.ts'

const MiB = 1024 * 1024
const root = resolve(import.meta.dirname, '..', '..')

const { values } = parseArgs({ options: { size: { type: 'string' }, runs: { type: 'string' }, quick: { type: 'boolean' }, only: { type: 'string' }, 'out-dir': { type: 'string' }, 'no-scale': { type: 'boolean' }, 'scale-only': { type: 'boolean' } } })
const quick = !!values.quick
const sizeMiB = Number(values.size ?? (quick ? 16 : 512))
const runs = Number(values.runs ?? (quick ? 1 : 3))
if (!(sizeMiB > 0) || !(runs >= 1)) throw new Error('--size and --runs must be positive numbers')
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : null
// A yardstick variant (qbittorrent-plain) comes with its client (qbittorrent).
const clients = CLIENTS.filter((c) => (!only || only.has(c.name) || only.has(c.name.split('-')[0]!)) && c.available())
const anchors = clients.filter((c) => c !== shoal)
const scaleOnly = !!values['scale-only']
const withScale = !values['no-scale'] && clients.includes(shoal)

// Pairs: Shoal -> Shoal, then per anchor: anchor -> Shoal, Shoal -> anchor, anchor -> anchor.
// Quick mode: Shoal -> Shoal and one anchor -> anchor (qBittorrent if installed).
const pairs: Array<[Client, Client]> = []
if (!scaleOnly && clients.includes(shoal)) pairs.push([shoal, shoal])
if (scaleOnly) {
  // only the many-torrents part
} else if (quick) {
  const yardsticks = anchors.filter((c) => c.name === 'qbittorrent' || c.yardstickOnly)
  for (const a of yardsticks.length ? yardsticks : anchors.slice(0, 1)) pairs.push([a, a])
} else {
  const qbit = anchors.find((c) => c.name === 'qbittorrent')
  for (const a of anchors) {
    if (a.yardstickOnly) { pairs.push([a, a]); continue }
    if (clients.includes(shoal)) pairs.push([a, shoal])
    if (clients.includes(shoal) && !a.seedOnly) pairs.push([shoal, a])
    if (!a.seedOnly) pairs.push([a, a])
    // A seeder-only client has no pair of its own: qBittorrent downloading from it shows what it
    // gives a libtorrent peer, to read "that client -> Shoal" against.
    if (a.seedOnly && qbit) pairs.push([a, qbit])
  }
}

/** Allocated bytes of `path` (sparse files grow as data lands), 0 if absent. */
function allocated (path: string): number {
  try { return statSync(path).blocks * 512 } catch { return 0 }
}

/**
 * Throughput while data flows: the middle 80 % of the file (10 % to 90 % of its bytes on disk).
 * Start-up (first byte is its own column) and each client's way of noticing and reporting that it
 * is done (qBittorrent's 1 s stats tick, aria2c's 1 s tracker and exit ticks) are not part of it.
 * Null when the file did not grow in steps (pre-allocation).
 */
function steadyMiBPerS (size: number, at10: number, at90: number): number | null {
  return at90 > at10 ? (size * 0.8) / MiB / ((at90 - at10) / 1000) : null
}

async function transfer (ctx: Ctx, seeder: Client, getter: Client, run: number): Promise<PairRun> {
  const seeding = await seeder.seed(ctx, !!getter.needsTracker)
  const seedSampler = new Sampler(seeding.pid)
  const out = join(ctx.dir, `out-${seeder.name}-${getter.name}-${run}`)
  mkdirSync(out, { recursive: true })
  const target = join(out, 'payload.bin')
  seedSampler.mark()
  const t0 = performance.now()
  const dl = await getter.get(ctx, seeding, out)
  const getSampler = new Sampler(dl.pid)
  let firstByte = NaN
  let at10 = NaN
  let at90 = NaN
  let seen: Promise<Cipher[] | null> | null = null
  const poll = setInterval(() => {
    const have = allocated(target)
    const now = performance.now()
    if (Number.isNaN(firstByte) && have > 0) firstByte = now
    if (Number.isNaN(at10) && have >= ctx.size * 0.1) {
      at10 = now
      // Mid-transfer, while the connection is up (two seeds hang up on each other at the end).
      seen = (dl.ciphers ?? seeding.ciphers)?.().catch(() => null) ?? null
    }
    if (Number.isNaN(at90) && have >= ctx.size * 0.9) at90 = now
  }, 10)
  try {
    // Never wait forever on a stalled pair: give up below 0.5 MiB/s (at least 2 minutes).
    const limitS = Math.max(120, (ctx.size / MiB) * 2)
    let timer: NodeJS.Timeout | undefined
    dl.done.catch(() => { /* handled by the race below; a late rejection after a timeout is moot */ })
    await Promise.race([dl.done, new Promise<never>((_res, rej) => {
      timer = setTimeout(() => rej(new Error(`${seeder.name} -> ${getter.name}: not complete after ${limitS} s`)), limitS * 1000)
    })]).finally(() => clearTimeout(timer))
    const t1 = performance.now()
    if (Number.isNaN(firstByte)) firstByte = t1
    const g = getSampler.stop()
    const s = seedSampler.stop()
    const got = await sha256File(target)
    const want = ctx.srcSha256 ??= await sha256File(ctx.src)
    if (got !== want) throw new Error(`${seeder.name} -> ${getter.name}: the downloaded file differs from the source`)
    const firstToDoneMiBPerS = ctx.size / MiB / Math.max((t1 - firstByte) / 1000, 0.001)
    return {
      totalS: (t1 - t0) / 1000,
      ttfbS: (firstByte - t0) / 1000,
      mibPerS: steadyMiBPerS(ctx.size, at10, at90) ?? firstToDoneMiBPerS,
      firstToDoneMiBPerS,
      cipherSeen: seen ? await seen : null,
      downloader: g,
      seeder: s
    }
  } finally {
    clearInterval(poll)
    await dl.stop()
    await seeding.stop()
    // Checked, so gone: left on disk, 36 copies of 512 MiB kept up to 1 GiB of dirty pages for the
    // kernel to write back while the next pairs and the time-to-share rounds ran.
    rmSync(out, { recursive: true, force: true })
  }
}

/** Time to share, `runs` rounds of every tool in turn (the first read of the file warms the page cache). */
async function timeToShare (ctx: Ctx, pieceLength: number): Promise<ShareResult[]> {
  type Sample = Pick<ShareResult, 'seconds' | 'peakRssMiB' | 'cpuS'>
  const samples = new Map<string, Sample[]>()
  const add = (tool: string, x: Sample): void => {
    samples.set(tool, [...(samples.get(tool) ?? []), x])
  }
  const outT = join(ctx.dir, 'share.torrent')
  // mktorrent takes 2^15 .. 2^28: all three hash with the same piece length.
  pieceLength = Math.max(pieceLength, 32768)
  const wtTorrent = outT + '.wt'
  const wt = timed(...shoalCommand('create', ctx.src, '-o', wtTorrent, '--piece-length', String(pieceLength)))
  if (!wt.ok) throw new Error(`shoal create --piece-length failed:\n${wt.out}`)
  for (let round = 0; round < runs; round++) {
    const sh = timed(...shoalCommand('create', ctx.src, '-o', outT + '.shoal', '--piece-length', String(pieceLength)))
    if (!sh.ok) console.log(`shoal create failed:\n${sh.out.slice(-500)}`)
    if (sh.ok) add('shoal create', { seconds: sh.wallS, peakRssMiB: sh.peakRssMiB, cpuS: sh.cpuS })
    // As users share in the app: a running engine (`shoal serve`) asked over its WebSocket API, so
    // process start-up is not counted; the same piece length as the other tools.
    // A user shares seconds after the app opens, not in its first 100 ms: the share waits a second,
    // so the hash workers the app keeps started are started, as they are when a user shares.
    const served = await startServe(join(ctx.dir, `share-serve-${round}`))
    try {
      const api = await WsApi.open(served)
      await new Promise((resolve) => setTimeout(resolve, 1000))
      const sampler = new Sampler(served.child.pid!, 20)
      sampler.mark()
      const t0 = performance.now()
      await api.call('torrent.share', { paths: [ctx.src], options: { pieceLength } })
      const secs = (performance.now() - t0) / 1000
      const f = sampler.stop()
      api.close()
      add('Shoal app (shoal serve), share', { seconds: secs, peakRssMiB: f.peakRssMiB, cpuS: f.cpuS })
    } finally { await served.stop() }
    if (hasBinary('mktorrent')) {
      const mk = timed('mktorrent', ['-t', '1', '-l', String(Math.log2(pieceLength)), '-o', `${outT}.mk${round}`, ctx.src])
      if (!mk.ok) console.log(`mktorrent failed:\n${mk.out.slice(-500)}`)
      if (mk.ok) add('mktorrent -t 1', { seconds: mk.wallS, peakRssMiB: mk.peakRssMiB, cpuS: mk.cpuS })
    }
  }
  // Raw webtorrent: from process start to "ready" (existing data hashed and verified); once, it is
  // the slow baseline.
  const procs = new Procs()
  try {
    const t0 = performance.now()
    const p = procs.start('webtorrent seed', process.execPath, [join(import.meta.dirname, 'wt-runner.ts'), 'seed', wtTorrent, ctx.seedDir, String(await freePort())])
    const s = new Sampler(p.child.pid!, 20)
    const line = await firstLine(p, 300000)
    const secs = (performance.now() - t0) / 1000
    const f = s.stop()
    if (line === 'ready') add('webtorrent seed until ready', { seconds: secs, peakRssMiB: f.peakRssMiB, cpuS: f.cpuS })
  } finally { await procs.stopAll() }
  return [...samples].map(([tool, xs]) => ({
    tool,
    seconds: median(xs.map((x) => x.seconds)),
    peakRssMiB: median(xs.map((x) => x.peakRssMiB)),
    cpuS: median(xs.map((x) => x.cpuS)),
    runs: xs.length
  }))
}

async function main (): Promise<void> {
  const started = new Date()
  const dir = tempDir('shoal-bench-')
  const procs = new Procs()
  const tracker = await startTracker()
  const onSignal = () => { void procs.stopAll().then(() => { dir.cleanup(); process.exit(130) }) }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    console.log(`bench: ${sizeMiB} MiB, ${runs} run(s), clients: ${clients.map((c) => c.name).join(', ')}`)
    const seedDir = join(dir.path, 'seed')
    const src = randomFile(join(seedDir, 'payload.bin'), Math.round(sizeMiB * MiB))
    // On disk before anything is measured: otherwise the kernel writes its dirty pages back (after
    // 30 s) while round 1 runs. Three Shoal -> Shoal pairs right after an unsynced 512 MiB file ran
    // 322-496 MiB/s, after a synced one 410-516.
    const fd = openSync(src, 'r+')
    fsyncSync(fd)
    closeSync(fd)
    const torrent = join(dir.path, 'payload.torrent')
    const torrentTr = join(dir.path, 'payload-tracker.torrent')
    const mk = (out: string, announce?: string): string => {
      const r = timed(...shoalCommand('create', src, '-o', out, ...(announce ? ['--announce', announce] : [])))
      const m = /[0-9a-f]{40}/.exec(r.out)
      if (!r.ok || !m) throw new Error(`shoal create failed:\n${r.out}`)
      return m[0]
    }
    const infoHash = mk(torrent)
    if (mk(torrentTr, tracker.announce) !== infoHash) throw new Error('the tracker .torrent has another info hash')
    const pieceLength = pieceLengthOf(torrent)
    const ctx: Ctx = { procs, dir: dir.path, seedDir, src, torrent, torrentTr, announce: tracker.announce, infoHash, size: Math.round(sizeMiB * MiB) }

    // Rounds, not blocks: round i runs every pair once before round i + 1, so the machine's drift over
    // the minutes a bench takes (qBittorrent -> qBittorrent alone has ranged 124-214 MiB/s here)
    // falls on every pair alike instead of on whichever pairs ran during a slow spell. And each round
    // runs them in another order, so that no pair always follows the same one: a pair's speed here
    // depends on the state the previous pair left (a round's downloader CPU has doubled for every
    // client alike).
    const samples = pairs.map(() => ({ list: [] as PairRun[], errors: [] as string[] }))
    for (let i = 0; i < runs; i++) {
      for (const k of roundOrder(pairs.length, i)) {
        const [s, g] = pairs[k]!
        const slot = samples[k]!
        try {
          const r = await transfer(ctx, s, g, i)
          slot.list.push(r)
          if (runs > 1) console.log(`  round ${i + 1}/${runs} ${s.label} -> ${g.label}: ${r.mibPerS.toFixed(1)} MiB/s`)
        } catch (err) {
          slot.errors.push((err as Error).message.split('\n').slice(0, 6).join('\n'))
        } finally {
          await procs.stopAll()
        }
      }
    }
    const results: PairResult[] = pairs.map(([s, g], k) => summarise(s, g, samples[k]!.list, samples[k]!.errors))
    for (const r of results) {
      console.log(`  ${r.pair}: ${r.runs ? `${r.mibPerS.toFixed(1)} MiB/s, first byte ${r.ttfbS.toFixed(2)} s` : `failed: ${r.errors[0]}`}`)
    }
    // Each pair against the qBittorrent -> qBittorrent pair with the same payload cipher and transport.
    const yardstick = (c: Cipher, t: Transport = 'tcp') => results.find((r) => r.seeder === r.downloader && r.seeder.startsWith('qbittorrent') &&
      r.cipher === c && r.transport === t && r.runs > 0)
    for (const r of results) {
      const y = yardstick(r.cipher, r.transport)
      r.ratioToQbit = y && r.runs > 0 ? r.mibPerS / y.mibPerS : null
    }
    const qq = yardstick('rc4') ?? yardstick('plain') ?? yardstick('rc4', 'utp') ?? yardstick('plain', 'utp')

    const share = scaleOnly ? [] : await timeToShare(ctx, pieceLength)
    const mkt = share.find((x) => x.tool.startsWith('mktorrent'))
    for (const x of share) x.ratioToMktorrent = mkt ? x.seconds / mkt.seconds : null

    let scale: ScaleFigures | null = null
    if (withScale) {
      scale = await scaleBench(quick
        ? { dir: dir.path, restartTorrents: 10, idleTorrents: 20, fileBytes: 64 * 1024, idleWindowS: 3 }
        : { dir: dir.path, restartTorrents: 100, idleTorrents: 500, fileBytes: MiB, idleWindowS: 30 })
    }

    if (!scaleOnly) {
      console.log('')
      console.log(pairTable(results, qq ? 'qBittorrent -> qBittorrent' : null))
      console.log('')
      console.log(shareTable(share, sizeMiB))
    }
    if (scale) {
      console.log('')
      console.log(scaleTable(scale))
    }
    const report = {
      startedAt: started.toISOString(),
      sizeMiB, runs, quick, pieceLength,
      clients: clients.map((c) => c.name),
      pairs: results,
      timeToShare: share,
      scale,
      notMeasured: clients.filter((c) => c.seedOnly).map((c) => ({ client: c.name, pairs: clients.includes(shoal) ? [`Shoal -> ${c.label}`, `${c.label} -> ${c.label}`] : [`${c.label} -> ${c.label}`], reason: c.seedOnly }))
    }
    for (const n of report.notMeasured) console.log(`not measured: ${n.pairs.join(', ')} (${n.reason})`)
    const outDir = values['out-dir'] ? resolve(values['out-dir']) : join(root, '.tmp')
    mkdirSync(outDir, { recursive: true })
    const jsonPath = join(outDir, `bench-${started.toISOString().replace(/[:.]/g, '-')}.json`)
    writeFileSync(jsonPath, JSON.stringify(report, null, 2) + '\n')
    console.log(`\nJSON: ${jsonPath}`)
    if (!scaleOnly && !results.some((r) => r.runs > 0)) process.exitCode = 1
  } finally {
    await procs.stopAll()
    await tracker.close()
    dir.cleanup()
  }
}

function pieceLengthOf (torrentFile: string): number {
  // "12:piece lengthi<N>e" in the bencoded info dict.
  const m = /12:piece lengthi(\d+)e/.exec(readFileSync(torrentFile).toString('latin1'))
  if (!m) throw new Error(`no piece length in ${torrentFile}`)
  return Number(m[1])
}

function summarise (s: Client, g: Client, list: PairRun[], errors: string[]): PairResult {
  const med = (f: (r: PairRun) => number) => median(list.map(f))
  return {
    pair: `${s.label} -> ${g.label}`,
    seeder: s.name,
    downloader: g.name,
    cipher: pairCipher(s, g),
    transport: pairTransport(s, g),
    cipherSeen: [...new Set(list.flatMap((r) => r.cipherSeen ?? []))],
    runs: list.length,
    errors,
    mibPerS: med((r) => r.mibPerS),
    mibPerSRange: [Math.min(...list.map((r) => r.mibPerS)), Math.max(...list.map((r) => r.mibPerS))],
    firstToDoneMiBPerS: med((r) => r.firstToDoneMiBPerS),
    ttfbS: med((r) => r.ttfbS),
    totalS: med((r) => r.totalS),
    downloaderPeakRssMiB: med((r) => r.downloader.peakRssMiB),
    downloaderCpuS: med((r) => r.downloader.cpuS),
    seederPeakRssMiB: med((r) => r.seeder.peakRssMiB),
    seederCpuS: med((r) => r.seeder.cpuS),
    ratioToQbit: null,
    samples: list
  }
}

await main()
