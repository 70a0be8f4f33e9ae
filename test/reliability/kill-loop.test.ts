// A downloader killed with SIGKILL at random moments of a rate-limited download, many times over,
// each time restarted with the same data folder. On every restart: nothing verified is lost (every
// piece the saved resume data had is still verified after the restart), and nothing unverified is
// claimed (every piece the restarted engine says it has is hashed on disk here, against the
// .torrent's SHA-1). At the end the file's SHA-256 is right. A seeded PRNG picks the kill moments:
// the seed is printed, SHOAL_FAULTS_SEED=n repeats a run. SHOAL_RELIABILITY_LONG=1: more kills.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join, resolve } from 'node:path'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { closeSync, existsSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import bencode from 'bencode'
import { randomFile, sha256File, tempDir, waitFor } from '../helpers/fixtures.ts'
import { openTestEngine } from '../helpers/engines.ts'
import type { Engine } from '../../main/engine/engine.ts'
import { writeFigures } from './figures.ts'
import { prng } from '../helpers/prng.ts'

const MiB = 1024 * 1024
const RUNNER = resolve(import.meta.dirname, 'fault-runner.ts')
const LONG = process.env.SHOAL_RELIABILITY_LONG === '1'
const KILLS = Number(process.env.SHOAL_FAULTS_KILLS ?? (LONG ? 40 : 8))
// Large enough that the kills land before the end even when every random delay is long.
const SIZE = (LONG ? 128 : 32) * MiB
const PIECE = 64 * 1024
const RATE = 384 * 1024
const SEED = Number(process.env.SHOAL_FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31))


interface Status { type: string; state?: string; progress?: number; pieces?: string; error?: string | null }
interface Child { lines: Status[]; exited: Promise<void>; kill: (sig: NodeJS.Signals) => void; stderr: () => string; done: () => boolean }

function runDownloader (args: Record<string, unknown>): Child {
  const child = spawn(process.execPath, [RUNNER, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: Status[] = []
  let err = ''
  createInterface({ input: child.stdout }).on('line', (l) => { try { lines.push(JSON.parse(l) as Status) } catch { /* not ours */ } })
  child.stderr.on('data', (d) => { err += d })
  let over = false
  const exited = new Promise<void>((r) => child.once('exit', () => { over = true; r() }))
  return {
    lines,
    exited,
    stderr: () => err,
    done: () => over,
    kill: (sig) => { if (child.exitCode === null && child.signalCode === null) child.kill(sig) }
  }
}

const bitsOf = (b64: string | undefined): Uint8Array => new Uint8Array(Buffer.from(b64 ?? '', 'base64'))
const has = (bits: Uint8Array, i: number) => ((bits[i >> 3] ?? 0) & (128 >> (i & 7))) !== 0
const count = (bits: Uint8Array, n: number) => { let c = 0; for (let i = 0; i < n; i++) if (has(bits, i)) c++; return c }

/** Pieces claimed in `bits` whose bytes on disk do not match the .torrent's SHA-1. */
function badClaims (file: string, bits: Uint8Array, hashes: Uint8Array, pieceCount: number): number[] {
  const bad: number[] = []
  if (!existsSync(file)) return count(bits, pieceCount) ? [-1] : []
  const fd = openSync(file, 'r')
  try {
    const buf = Buffer.alloc(PIECE)
    for (let i = 0; i < pieceCount; i++) {
      if (!has(bits, i)) continue
      const len = Math.min(PIECE, SIZE - i * PIECE)
      const n = readSync(fd, buf, 0, len, i * PIECE)
      const got = createHash('sha1').update(buf.subarray(0, n)).digest()
      if (n !== len || !got.equals(Buffer.from(hashes.subarray(i * 20, i * 20 + 20)))) bad.push(i)
    }
  } finally { closeSync(fd) }
  return bad
}

/** The resume bitfield the killed process left in its data folder (empty if none was saved yet). */
function persistedBits (dataDir: string): Uint8Array {
  const p = join(dataDir, 'config.json')
  if (!existsSync(p)) return new Uint8Array(0)
  const saved = JSON.parse(readFileSync(p, 'utf8')) as { torrents?: Array<{ resume?: { bitfield: string } | null }> }
  return bitsOf(saved.torrents?.[0]?.resume?.bitfield)
}

test(`killed during writes: a downloader SIGKILLed at ${KILLS} random moments loses nothing verified and claims nothing unverified`, { timeout: LONG ? 900_000 : 150_000 }, async () => {
  console.log(`kill loop: seed ${SEED} (SHOAL_FAULTS_SEED=${SEED} repeats it), ${KILLS} kills, ${SIZE / MiB} MiB at ${RATE / 1024} KiB/s`)
  const rand = prng(SEED)
  const d = tempDir('shoal-killloop-')
  let seeder: Engine | null = null
  const children: Child[] = []
  try {
    const src = randomFile(join(d.path, 'src', 'kill.bin'), SIZE)
    const want = await sha256File(src)
    seeder = await openTestEngine({ dataDir: join(d.path, 'seeder'), settings: { maxUploadSpeed: RATE } })
    const shared = await seeder.share([src], { pieceLength: PIECE })
    const torrentBytes = seeder.exportTorrent(shared.infoHash).bytes
    const torrentPath = join(d.path, 'kill.torrent')
    writeFileSync(torrentPath, torrentBytes)
    const hashes = (bencode.decode(Buffer.from(torrentBytes)) as { info: { pieces: Uint8Array } }).info.pieces
    const pieceCount = hashes.length / 20
    const dataDir = join(d.path, 'get')
    const out = join(dataDir, 'downloads', 'kill.bin')
    const args = { mode: 'get', source: torrentPath, data: dataDir, peers: [`127.0.0.1:${seeder.listeningPort}`] }
    const ready = (c: Child) => c.lines.find((s) => s.type === 'status' && (s.state === 'downloading' || s.state === 'seeding'))

    let kills = 0
    let killsMidDownload = 0
    let recheckedPieces = 0
    let redownloadedPieces = 0
    let lastSeenBeforeKill: Uint8Array = new Uint8Array(0)
    let persisted: Uint8Array = new Uint8Array(0)
    const log: string[] = []
    for (let round = 0; round <= KILLS; round++) {
      const c = runDownloader(args)
      children.push(c)
      const first = await waitFor(`run ${round} to be running`, () => ready(c) ?? (c.done() ? Promise.reject(new Error(`the downloader exited: ${c.stderr()}`)) : null), 60_000, 20)
      const got = bitsOf(first.pieces)
      assert.equal(first.state === 'error', false, first.error ?? '')
      // Nothing verified lost: every piece of the saved resume data is still claimed.
      const lost = [...Array(pieceCount).keys()].filter((i) => has(persisted, i) && !has(got, i))
      assert.deepEqual(lost, [], `run ${round}: pieces saved as verified before the kill are no longer claimed (seed ${SEED})`)
      // Nothing unverified claimed: every claimed piece hashes right on disk.
      assert.deepEqual(badClaims(out, got, hashes, pieceCount), [], `run ${round}: claimed pieces whose bytes on disk are wrong (seed ${SEED})`)
      const gotCount = count(got, pieceCount)
      if (round > 0) {
        recheckedPieces += Math.max(0, gotCount - count(persisted, pieceCount))
        redownloadedPieces += Math.max(0, count(lastSeenBeforeKill, pieceCount) - gotCount)
        log.push(`restart ${round}: ${gotCount} pieces (saved ${count(persisted, pieceCount)}, last seen ${count(lastSeenBeforeKill, pieceCount)})`)
      }
      if (round === KILLS || gotCount === pieceCount) break

      // Kill at a random moment of the download (writes under way: the seeder is rate-limited); up
      // to 7 s in, so some runs outlive the engine's 5 s resume-data save and some do not.
      const delay = 100 + Math.floor(rand() * 6900)
      await new Promise((r) => setTimeout(r, delay))
      if (c.done()) throw new Error(`the downloader exited by itself: ${c.stderr()}`)
      c.kill('SIGKILL')
      await c.exited
      kills++
      const seen = c.lines.filter((s) => s.type === 'status' && s.pieces).at(-1)
      lastSeenBeforeKill = bitsOf(seen?.pieces)
      persisted = persistedBits(dataDir)
      // What was saved as verified must be verified: no piece of the saved resume data is wrong on disk.
      assert.deepEqual(badClaims(out, persisted, hashes, pieceCount), [], `after kill ${kills}: saved resume data claims pieces whose bytes are wrong (seed ${SEED})`)
      // A kill after the last piece is no fault of the engine; the next restart must still be complete.
      if (count(lastSeenBeforeKill, pieceCount) < pieceCount) killsMidDownload++
    }

    // The last run: full speed, to the end.
    await seeder.updateSettings({ maxUploadSpeed: 0 })
    const last = children.at(-1)!
    await waitFor('the download to complete', () => last.lines.some((s) => s.type === 'status' && s.progress === 1 && s.state === 'seeding') || (last.done() ? Promise.reject(new Error(`the downloader exited: ${last.stderr()}`)) : false), 120_000, 100)
    last.kill('SIGTERM')
    await last.exited
    assert.equal(await sha256File(out), want, 'the downloaded file is right')
    assert.ok(killsMidDownload >= Math.min(KILLS, 4), `enough kills landed mid-download (${killsMidDownload} of ${kills})`)
    const line = `${kills} SIGKILLs (${killsMidDownload} mid-download) at random moments (seed ${SEED}) of a ${SIZE / MiB} MiB download at ${RATE / 1024} KiB/s; ` +
      `every restart kept every saved piece and claimed only pieces whose bytes hash right; ${recheckedPieces} pieces re-verified from disk beyond the saved resume data; ` +
      `${redownloadedPieces} pieces downloaded again; SHA-256 verified`
    console.log(line)
    for (const l of log) console.log(`  ${l}`)
    writeFigures('kill-loop', { title: 'Killed during writes (SIGKILL loop)', reportLines: [line], seed: SEED, kills, killsMidDownload, recheckedPieces, redownloadedPieces, bytesLost: 0 })
  } finally {
    for (const c of children) { c.kill('SIGKILL'); await c.exited }
    await seeder?.close()
    d.cleanup()
  }
})
