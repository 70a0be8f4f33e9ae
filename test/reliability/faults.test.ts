// Faults a swarm survives, on loopback with real engines and real data checked by SHA-256:
// the only seeder dies mid-transfer and another appears later; the tracker goes down and DHT
// still finds the peers. Figures (faults survived, bytes lost) go to the reliability report.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { randomFile, sha256File, waitFor } from '../helpers/fixtures.ts'
import { withEngines as withEnginesIn } from '../helpers/engines.ts'
import { startTracker, startDhtBootstrap } from '../helpers/swarm.ts'
import type { Engine } from '../../main/engine/engine.ts'
import { writeFigures } from './figures.ts'

const MiB = 1024 * 1024
const figures = { faultsSurvived: 0, faultsTried: 0, bytesLost: 0, bytesWasted: 0, details: [] as string[] }

const withEngines = (fn: Parameters<typeof withEnginesIn>[0]) => withEnginesIn(fn, 'shoal-faults-')
const row = (e: Engine, infoHash: string) => e.list().find((t) => t.infoHash === infoHash)
const done = (e: Engine, infoHash: string) => () => row(e, infoHash)?.progress === 1

test('the only seeder dies mid-transfer; a second seeder appears later and the download completes, losing nothing', { timeout: 90_000 }, async () => {
  figures.faultsTried++
  await withEngines(async ({ dir, open, close }) => {
    const src = randomFile(join(dir, 'src', 'resume.bin'), 6 * MiB)
    const want = await sha256File(src)
    // A slow first seeder, so it dies with the transfer well under way.
    const first = await open('first', { settings: { maxUploadSpeed: 1 * MiB } })
    const shared = await first.share([src], { pieceLength: 64 * 1024 })
    const leecher = await open('leecher')
    await leecher.add(shared.magnetURI, { peers: [`127.0.0.1:${first.listeningPort}`] })

    // Progress is sampled the whole time: verified data must never go backwards.
    let lastProgress = 0
    let drop = 0
    let atDeath: number
    const sampler = setInterval(() => {
      const p = row(leecher, shared.infoHash)?.progress ?? 0
      if (p < lastProgress) drop = Math.max(drop, lastProgress - p)
      lastProgress = Math.max(lastProgress, p)
    }, 50)
    try {
      await waitFor('a quarter downloaded from the first seeder', () => (row(leecher, shared.infoHash)?.progress ?? 0) >= 0.25, 30_000, 50)
      await close(first)
      atDeath = row(leecher, shared.infoHash)!.progress
      assert.ok(atDeath < 1, `the transfer was still under way when the seeder died (progress ${atDeath})`)

      // With no seeder the download stalls, keeping what it has.
      await new Promise((r) => setTimeout(r, 2000))
      const stalled = row(leecher, shared.infoHash)!
      assert.ok(stalled.progress < 1 && stalled.progress >= atDeath, `stalled at ${stalled.progress}, had ${atDeath}`)
      assert.notEqual(stalled.state, 'error', `no error state after the seeder died (${stalled.error ?? ''})`)

      // A second seeder with the same data appears; the downloader is told its address.
      const second = await open('second')
      const again = await second.share([src], { pieceLength: 64 * 1024 })
      assert.equal(again.infoHash, shared.infoHash, 'the same data gives the same torrent')
      leecher.addPeer(shared.infoHash, `127.0.0.1:${second.listeningPort}`)
      await waitFor('download completes from the second seeder', done(leecher, shared.infoHash), 45_000, 100)
    } finally { clearInterval(sampler) }

    assert.equal(drop, 0, `verified progress went down by ${drop}`)
    assert.equal(await sha256File(join(dir, 'leecher', 'downloads', 'resume.bin')), want)
    const final = row(leecher, shared.infoHash)!
    figures.bytesWasted += Math.max(0, final.downloaded - final.size)
    figures.faultsSurvived++
    figures.details.push(`the only seeder died at ${(atDeath * 100).toFixed(0)}%; completed from a later seeder; ${final.downloaded} bytes downloaded for ${final.size}`)
  })
})

test('the tracker goes down: a new downloader still finds the seeders through DHT', { timeout: 90_000 }, async () => {
  figures.faultsTried++
  const tracker = await startTracker()
  const boot = await startDhtBootstrap()
  let trackerUp = true
  try {
    await withEngines(async ({ dir, open }) => {
      const o = { settings: { dht: true }, dhtBootstrap: [boot.node] }
      const seeder = await open('seeder', o)
      const early = await open('early', o)
      const src = randomFile(join(dir, 'src', 'notracker.bin'), 4 * MiB)
      const want = await sha256File(src)
      const shared = await seeder.share([src], { announce: [tracker.announce] })
      assert.ok(shared.magnetURI.includes(encodeURIComponent(tracker.announce)), 'the tracker is in the magnet')
      // First the peers meet through the tracker.
      await early.add(shared.magnetURI)
      await waitFor('early downloader completes via the tracker', done(early, shared.infoHash), 45_000)

      await tracker.close()
      trackerUp = false
      // A newcomer with only the magnet (whose tracker is now dead) and a DHT bootstrap node.
      const late = await open('late', o)
      await late.add(shared.magnetURI)
      await waitFor('late downloader completes with the tracker down', done(late, shared.infoHash), 60_000, 200)
      assert.equal(await sha256File(join(dir, 'late', 'downloads', 'notracker.bin')), want)
      assert.ok(late.stats().dhtNodes > 0, 'the DHT was used')
      figures.faultsSurvived++
      figures.details.push('tracker closed; a new downloader found the seeders through DHT and completed')
    })
  } finally {
    if (trackerUp) await tracker.close()
    await boot.close()
  }
})

test('faults: figures written', () => {
  writeFigures('faults', figures)
  assert.equal(figures.bytesLost, 0)
})
