// Engines talking to engines on loopback through each discovery path, with real data checked.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { randomFile, sha256File, waitFor } from '../helpers/fixtures.ts'
import { withEngines } from '../helpers/engines.ts'
import { startTracker, startDhtBootstrap } from '../helpers/swarm.ts'
import type { Engine } from '../../main/engine/engine.ts'

const MiB = 1024 * 1024

const done = (e: Engine, infoHash: string) => () => e.list().find((t) => t.infoHash === infoHash)?.progress === 1

test('tracker only: a downloader finds the seeder through a local HTTP tracker', async () => {
  const tracker = await startTracker()
  try {
    await withEngines(async ({ dir, open }) => {
      const seeder = await open('seeder')
      const leecher = await open('leecher')
      const src = randomFile(join(dir, 'src', 'tracker.bin'), 6 * MiB)
      const shared = await seeder.share([src], { announce: [tracker.announce] })
      assert.ok(shared.magnetURI.includes(encodeURIComponent(tracker.announce)), 'the tracker is written into the magnet')
      await leecher.add(shared.magnetURI)
      await waitFor('download via tracker', done(leecher, shared.infoHash), 60000)
      assert.equal(await sha256File(join(dir, 'leecher', 'downloads', 'tracker.bin')), await sha256File(src))
    })
  } finally { await tracker.close() }
})

test('DHT only: a downloader finds the seeder through a local DHT bootstrap node, no tracker', async () => {
  const boot = await startDhtBootstrap()
  try {
    await withEngines(async ({ dir, open }) => {
      const o = { settings: { dht: true }, dhtBootstrap: [boot.node], tracker: false }
      const seeder = await open('seeder', o)
      const leecher = await open('leecher', o)
      const src = randomFile(join(dir, 'src', 'dht.bin'), 4 * MiB)
      const shared = await seeder.share([src])
      assert.ok(!shared.magnetURI.includes('tr='), 'no tracker in the magnet')
      await leecher.add(shared.magnetURI)
      await waitFor('download via DHT', done(leecher, shared.infoHash), 90000)
      assert.equal(await sha256File(join(dir, 'leecher', 'downloads', 'dht.bin')), await sha256File(src))
      assert.ok(leecher.stats().dhtNodes > 0, 'the DHT routing table has nodes')
    })
  } finally { await boot.close() }
})

test('PEX: a peer that only knows a middle peer learns the seeder\'s address from it', async () => {
  await withEngines(async ({ dir, open }) => {
    // A slow seeder keeps the middle peer downloading (two finished peers disconnect, leaving nothing to exchange).
    const seeder = await open('seeder', { settings: { maxUploadSpeed: 256 * 1024 } })
    const middle = await open('middle')
    const last = await open('last')
    const src = randomFile(join(dir, 'src', 'pex.bin'), 8 * MiB)
    const shared = await seeder.share([src])
    await middle.add(shared.magnetURI, { peers: [`127.0.0.1:${seeder.listeningPort}`] })
    await waitFor('middle has metadata', () => middle.list()[0]?.size, 30000)
    await last.add(shared.magnetURI, { peers: [`127.0.0.1:${middle.listeningPort}`] })
    await waitFor('last peer connected to the seeder it was never told about',
      () => last.peers(shared.infoHash).some((p) => p.port === seeder.listeningPort), 20000, 200)
    await seeder.updateSettings({ maxUploadSpeed: 0 })
    await waitFor('last completes', done(last, shared.infoHash), 60000)
    assert.equal(await sha256File(join(dir, 'last', 'downloads', 'pex.bin')), await sha256File(src))
  })
})

test('three seeders at once: each sends part of the data to one downloader', async () => {
  await withEngines(async ({ dir, open }) => {
    const src = randomFile(join(dir, 'src', 'many.bin'), 24 * MiB)
    // Upload limits keep any one seeder from sending everything before the others connect.
    const seeders = await Promise.all(['s1', 's2', 's3'].map((n) => open(n, { settings: { maxUploadSpeed: 2 * MiB } })))
    let magnet = ''
    let infoHash = ''
    for (const s of seeders) {
      const r = await s.share([src], { pieceLength: 256 * 1024 })
      magnet = r.magnetURI
      infoHash = r.infoHash
    }
    const leecher = await open('leecher')
    await leecher.add(magnet, { peers: seeders.map((s) => `127.0.0.1:${s.listeningPort}`) })
    await waitFor('download from three seeders', done(leecher, infoHash), 120000, 250)
    assert.equal(await sha256File(join(dir, 'leecher', 'downloads', 'many.bin')), await sha256File(src))
    const sent = seeders.map((s) => s.list()[0]!.uploaded)
    for (const [i, n] of sent.entries()) assert.ok(n >= 2 * MiB, `seeder ${i + 1} sent ${n} bytes, expected a real share`)
  })
})

test('a TCP-only peer is reached over TCP at once even with uTP on (no ~40 s uTP wait)', async () => {
  await withEngines(async ({ dir, open }) => {
    const seeder = await open('seeder', { settings: { utp: false } })
    const leecher = await open('leecher', { settings: { utp: true } })
    const src = randomFile(join(dir, 'src', 'tcp.bin'), 2 * MiB)
    const shared = await seeder.share([src])
    const t0 = Date.now()
    await leecher.add(shared.magnetURI, { peers: [`127.0.0.1:${seeder.listeningPort}`] })
    await waitFor('first data', () => (leecher.list()[0]?.downloaded ?? 0) > 0, 30000, 50)
    const firstData = Date.now() - t0
    // Unpatched webtorrent needs about 40 s here; 10 s leaves room for a loaded CI machine.
    assert.ok(firstData < 10000, `first data after ${firstData} ms`)
    assert.equal(leecher.peers(shared.infoHash)[0]?.transport, 'tcp')
    await waitFor('complete', done(leecher, shared.infoHash), 30000)
  })
})
