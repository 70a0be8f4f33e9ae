// The disk fills up during a download, then space is freed: the download stops with a clear
// DISK_FULL error in its snapshot, keeps every verified piece, and resumes BY ITSELF once a filler
// file is deleted (no resume command), completing with the right SHA-256. A small tmpfs plays the
// disk. Needs root (mount).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { randomFile, sha256File, tempDir, waitFor } from '../helpers/fixtures.ts'
import { openTestEngine } from '../helpers/engines.ts'
import type { Engine } from '../../main/engine/engine.ts'
import { writeFigures } from './figures.ts'

const MiB = 1024 * 1024
const lines: string[] = []

test('disk full, then freed: the download stops with DISK_FULL, keeps its pieces, and resumes by itself once space is freed', { timeout: 120_000 }, async (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root to mount a small tmpfs'); return }
  const d = tempDir('shoal-diskfull-')
  const small = join(d.path, 'small')
  mkdirSync(small)
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', small])
  let seeder: Engine | null = null
  let leecher: Engine | null = null
  let sampler: NodeJS.Timeout | null = null
  try {
    // Another program's file takes most of the disk: 2.5 MiB of 4, for a 3 MiB download.
    const filler = randomFile(join(small, 'filler.bin'), 2.5 * MiB)
    seeder = await openTestEngine({ dataDir: join(d.path, 'seeder') })
    leecher = await openTestEngine({ dataDir: join(d.path, 'leecher'), settings: { downloadPath: join(small, 'downloads') } })
    const src = randomFile(join(d.path, 'src', 'full.bin'), 3 * MiB)
    const want = await sha256File(src)
    const shared = await seeder.share([src], { pieceLength: 64 * 1024 })
    const l = leecher
    const row = () => l.list().find((x) => x.infoHash === shared.infoHash)
    let high = 0
    let drop = 0
    sampler = setInterval(() => {
      const p = row()?.progress ?? 0
      drop = Math.max(drop, high - p)
      high = Math.max(high, p)
    }, 50)
    await leecher.add(shared.magnetURI, { peers: [`127.0.0.1:${seeder.listeningPort}`] })

    const failed = await waitFor('the disk to fill up', () => row()?.state === 'error' ? row() : null, 60_000, 50)
    assert.equal(failed.errorCode, 'DISK_FULL', failed.error ?? '')
    assert.match(failed.error ?? '', /disk is full/i)
    assert.match(failed.error ?? '', /resume by itself once space is freed/i, 'the message says what happens next')
    assert.ok(failed.progress > 0 && failed.progress < 1, `stopped part way (${failed.progress})`)
    const atFull = failed.progress

    // With the disk still full it stays stopped (no busy retrying), and keeps what it verified.
    await new Promise((r) => setTimeout(r, 5000))
    const still = row()!
    assert.equal(still.state, 'error', 'still stopped while the disk is full')
    assert.equal(still.errorCode, 'DISK_FULL')
    assert.ok(still.progress >= atFull, `kept its pieces (${still.progress} >= ${atFull})`)

    // Free the space; no command is sent to the engine.
    rmSync(filler)
    const freedAt = Date.now()
    await waitFor('the download to resume by itself', () => row()?.state === 'downloading' || row()?.state === 'seeding', 30_000, 50)
    const resumedMs = Date.now() - freedAt
    await waitFor('the download to complete', () => row()?.progress === 1 && row()?.state === 'seeding', 60_000, 100)
    const done = row()!
    assert.equal(done.errorCode, null, 'the error is cleared once resumed')
    assert.equal(done.error, null)
    assert.equal(await sha256File(join(small, 'downloads', 'full.bin')), want)
    assert.equal(drop, 0, `verified progress went down by ${drop}`)
    const line = `disk full at ${(atFull * 100).toFixed(0)}% (DISK_FULL: "${failed.error}"); resumed by itself ${(resumedMs / 1000).toFixed(1)} s after space was freed; completed, SHA-256 verified, verified progress never went down; ${done.downloaded} bytes received for ${done.size}`
    console.log(line)
    lines.push(line)
  } finally {
    if (sampler) clearInterval(sampler)
    await leecher?.close()
    await seeder?.close()
    execFileSync('umount', [small])
    d.cleanup()
  }
})

test('disk full across a restart: the stopped download is stored with its error and resumes by itself after the restart once space is freed', { timeout: 120_000 }, async (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root to mount a small tmpfs'); return }
  const d = tempDir('shoal-diskfull2-')
  const small = join(d.path, 'small')
  mkdirSync(small)
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', small])
  let seeder: Engine | null = null
  let leecher: Engine | null = null
  try {
    const filler = randomFile(join(small, 'filler.bin'), 2.5 * MiB)
    seeder = await openTestEngine({ dataDir: join(d.path, 'seeder') })
    const open = () => openTestEngine({ dataDir: join(d.path, 'leecher'), settings: { downloadPath: join(small, 'downloads') } })
    leecher = await open()
    const src = randomFile(join(d.path, 'src', 'full2.bin'), 3 * MiB)
    const want = await sha256File(src)
    const shared = await seeder.share([src], { pieceLength: 64 * 1024 })
    await leecher.add(shared.magnetURI, { peers: [`127.0.0.1:${seeder.listeningPort}`] })
    const first = leecher
    const failed = await waitFor('the disk to fill up', () => { const r = first.list()[0]; return r?.state === 'error' ? r : null }, 60_000, 50)
    assert.equal(failed.errorCode, 'DISK_FULL', failed.error ?? '')
    // The verified pieces are kept as resume data, which close() writes to the store.
    await waitFor('resume data saved', () => first.detail(shared.infoHash).pieces !== '', 10_000, 50)
    const atFull = failed.progress
    await leecher.close()

    leecher = await open()
    const again = leecher
    const row = () => again.list().find((x) => x.infoHash === shared.infoHash)
    const reopened = row()!
    assert.equal(reopened.state, 'error', 'still stopped after the restart: the disk is still full')
    assert.equal(reopened.errorCode, 'DISK_FULL')
    assert.ok(reopened.progress >= atFull, `nothing verified lost across the restart (${reopened.progress} >= ${atFull})`)

    rmSync(filler)
    const freedAt = Date.now()
    await waitFor('the download to resume by itself after the restart', () => row()?.state === 'downloading' || row()?.state === 'seeding', 30_000, 50)
    const resumedMs = Date.now() - freedAt
    await waitFor('the download to complete', () => row()?.progress === 1 && row()?.state === 'seeding', 60_000, 100)
    assert.equal(row()!.errorCode, null)
    assert.equal(await sha256File(join(small, 'downloads', 'full2.bin')), want)
    const line = `disk full at ${(atFull * 100).toFixed(0)}%, engine restarted while full (kept ${(reopened.progress * 100).toFixed(0)}%); resumed by itself ${(resumedMs / 1000).toFixed(1)} s after space was freed; SHA-256 verified`
    console.log(line)
    lines.push(line)
  } finally {
    await leecher?.close()
    await seeder?.close()
    execFileSync('umount', [small])
    d.cleanup()
  }
})

test('disk full: figures written', () => {
  writeFigures('disk-full', { title: 'Disk full, then freed (4 MiB tmpfs)', reportLines: lines, bytesLost: 0 })
})
