// Torrent controls on a real two-engine swarm: pause/resume, file selection, recheck, remove, events.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs'
import { tempDir, randomFile, sha256File, waitFor } from '../helpers/fixtures.ts'
import { openTestEngine } from '../helpers/engines.ts'
import type { EventPayloads, NatStatus } from '../../main/contract/contract.ts'
import { startTracker } from '../helpers/swarm.ts'
import { mappedPeerPort } from '../../main/nat/nat-service.ts'

const MiB = 1024 * 1024

test('select files: only chosen files download; priorities and selection survive a restart', async () => {
  const d = tempDir()
  const seeder = await openTestEngine({ dataDir: join(d.path, 'seeder') })
  let leecher = await openTestEngine({ dataDir: join(d.path, 'leecher') })
  try {
    randomFile(join(d.path, 'src', 'pack', 'a.bin'), 2 * MiB)
    randomFile(join(d.path, 'src', 'pack', 'b.bin'), 2 * MiB)
    randomFile(join(d.path, 'src', 'pack', 'c.bin'), 2 * MiB)
    const shared = await seeder.share([join(d.path, 'src', 'pack')], { pieceLength: 65536 })
    const bytes = seeder.exportTorrent(shared.infoHash).bytes
    await leecher.add({ kind: 'torrentBytes', base64: Buffer.from(bytes).toString('base64') }, { selectFiles: [0, 2], peers: [`127.0.0.1:${seeder.listeningPort}`] })
    await waitFor('selected files complete', () => leecher.list()[0]?.progress === 1, 60000)
    const out = join(d.path, 'leecher', 'downloads', 'pack')
    assert.equal(await sha256File(join(out, 'a.bin')), await sha256File(join(d.path, 'src', 'pack', 'a.bin')))
    assert.equal(await sha256File(join(out, 'c.bin')), await sha256File(join(d.path, 'src', 'pack', 'c.bin')))
    const files = leecher.detail(shared.infoHash).files
    assert.deepEqual(files.map((f) => f.priority), ['normal', 'skip', 'normal'])
    assert.equal(files[1]!.progress, 0, 'b.bin was skipped')
    assert.ok(!existsSync(join(out, 'b.bin')) || statSync(join(out, 'b.bin')).size === 0 || files[1]!.downloaded === 0)
    assert.equal(leecher.list()[0]!.state, 'seeding', 'done with what was selected')

    await leecher.close()
    leecher = await openTestEngine({ dataDir: join(d.path, 'leecher') })
    assert.deepEqual(leecher.detail(shared.infoHash).files.map((f) => f.priority), ['normal', 'skip', 'normal'], 'selection persisted')
    // Now ask for b.bin too, at high priority.
    leecher.setFilePriorities(shared.infoHash, [{ index: 1, priority: 'high' }])
    leecher.addPeer(shared.infoHash, `127.0.0.1:${seeder.listeningPort}`)
    await waitFor('b.bin arrives after being selected', () => leecher.detail(shared.infoHash).files[1]?.progress === 1, 60000)
    assert.equal(await sha256File(join(out, 'b.bin')), await sha256File(join(d.path, 'src', 'pack', 'b.bin')))
  } finally {
    await leecher.close(); await seeder.close(); d.cleanup()
  }
})

test('pause stops the transfer, resume continues it; changes arrive as patches, not full dumps', async () => {
  const d = tempDir()
  const seeder = await openTestEngine({ dataDir: join(d.path, 'seeder'), settings: { maxUploadSpeed: 1 * MiB } })
  const leecher = await openTestEngine({ dataDir: join(d.path, 'leecher') })
  const events: Array<EventPayloads['torrents.changed']> = []
  leecher.on('torrents.changed', (e) => events.push(e))
  try {
    const src = randomFile(join(d.path, 'src', 'p.bin'), 6 * MiB)
    const shared = await seeder.share([src], { pieceLength: 65536 })
    await leecher.add(shared.magnetURI, { peers: [`127.0.0.1:${seeder.listeningPort}`] })
    await waitFor('some progress', () => (leecher.list()[0]?.progress ?? 0) > 0.1, 30000)
    await leecher.pause([shared.infoHash])
    assert.equal(leecher.list()[0]!.state, 'paused')
    assert.equal(leecher.peers(shared.infoHash).length, 0, 'a paused torrent has no connections')
    const at = leecher.list()[0]!.progress
    await new Promise((r) => setTimeout(r, 1500))
    assert.equal(leecher.list()[0]!.progress, at, 'no data while paused')
    assert.ok(at < 1)
    await leecher.resume([shared.infoHash])
    await seeder.updateSettings({ maxUploadSpeed: 0 })
    leecher.addPeer(shared.infoHash, `127.0.0.1:${seeder.listeningPort}`)
    await waitFor('complete after resume', () => leecher.list()[0]?.progress === 1, 60000)
    assert.equal(await sha256File(join(d.path, 'leecher', 'downloads', 'p.bin')), await sha256File(src))

    await waitFor('the seeding patch', () => events.some((e) => e.changed.some((p) => p.patch.state === 'seeding')), 5000)
    assert.equal(events[0]?.added.length, 1, 'the first batch adds the torrent whole')
    const patches = events.flatMap((e) => e.changed)
    assert.ok(patches.length > 3)
    // Fields that never change after the add can only appear in a full dump, never in a patch.
    assert.ok(patches.every((p) => !('addedAt' in p.patch) && !('savePath' in p.patch) && !('origin' in p.patch)), 'later batches carry only changed fields')
    assert.ok(patches.some((p) => p.patch.state === 'paused') && patches.some((p) => p.patch.state === 'seeding'))
  } finally {
    await leecher.close(); await seeder.close(); d.cleanup()
  }
})

test('recheck finds damaged data; remove keeps or deletes data, never outside the folder', async () => {
  const d = tempDir()
  const seeder = await openTestEngine({ dataDir: join(d.path, 'seeder') })
  const leecher = await openTestEngine({ dataDir: join(d.path, 'leecher') })
  try {
    randomFile(join(d.path, 'src', 'set', 'x.bin'), 1 * MiB)
    randomFile(join(d.path, 'src', 'set', 'deep', 'y.bin'), 1 * MiB)
    const shared = await seeder.share([join(d.path, 'src', 'set')], { pieceLength: 65536 })
    await leecher.add(shared.magnetURI, { peers: [`127.0.0.1:${seeder.listeningPort}`] })
    await waitFor('complete', () => leecher.list()[0]?.progress === 1, 60000)
    const out = join(d.path, 'leecher', 'downloads', 'set')
    await leecher.close()

    // Damage one byte; a recheck (not a plain restart: size and mtime could hide it) must notice.
    const again = await openTestEngine({ dataDir: join(d.path, 'leecher') })
    try {
      const buf = readFileSync(join(out, 'x.bin'))
      buf[100] = buf[100]! ^ 0xff
      const { writeFileSync, utimesSync } = await import('node:fs')
      const st = statSync(join(out, 'x.bin'))
      writeFileSync(join(out, 'x.bin'), buf)
      utimesSync(join(out, 'x.bin'), st.atimeMs / 1000, st.mtimeMs / 1000)
      await again.recheck(shared.infoHash)
      const t = await waitFor('recheck done', () => { const s = again.list()[0]; return s && s.state !== 'checking' ? s : null }, 30000)
      assert.equal(again.detail(shared.infoHash).files.find((f) => f.path.endsWith('x.bin'))!.downloaded, 1 * MiB - 65536, 'one piece lost')
      assert.ok(t.progress < 1)

      await again.remove([shared.infoHash], false)
      assert.equal(again.list().length, 0)
      assert.ok(existsSync(join(out, 'x.bin')), 'remove without data keeps files')
      await again.add(shared.magnetURI, { paused: true })
      await again.remove([shared.infoHash], true)
      // Metadata was not known for the paused magnet re-add, so nothing could be deleted yet.
      assert.ok(existsSync(join(out, 'x.bin')))
    } finally { await again.close() }

    const third = await openTestEngine({ dataDir: join(d.path, 'leecher') })
    try {
      await third.add({ kind: 'torrentBytes', base64: Buffer.from(seeder.exportTorrent(shared.infoHash).bytes).toString('base64') }, { paused: true })
      await third.remove([shared.infoHash], true)
      assert.ok(!existsSync(out), 'remove with data deletes the files and the folders it made')
      assert.ok(existsSync(join(d.path, 'leecher', 'downloads')), 'the download folder itself stays')
      assert.ok(existsSync(join(d.path, 'src', 'set', 'x.bin')), 'the seeder\'s files are untouched')
    } finally { await third.close() }
  } finally {
    await seeder.close(); d.cleanup()
  }
})

test('the announced port follows the router mapping: trackers hear the mapped port, then the listening one again', async () => {
  const d = tempDir()
  const tracker = await startTracker()
  const e = await openTestEngine({ dataDir: join(d.path, 'data') })
  try {
    const src = randomFile(join(d.path, 'share', 'a.bin'), 100_000)
    await e.share([src], { announce: [tracker.announce] })
    const heard = (port: number) => tracker.announced.some((a) => a === `127.0.0.1:${port}`)
    await waitFor('an announce of the listening port', () => heard(e.listeningPort))
    // As NatService reports it when UPnP had to map another external port.
    const mapped = e.listeningPort === 40123 ? 40124 : 40123
    e.setAnnouncedPort(mappedPeerPort({ upnp: { mappings: [{ protocol: 'UDP', internalPort: e.listeningPort, externalPort: 1, method: 'upnp', expiresAt: null }, { protocol: 'TCP', internalPort: e.listeningPort, externalPort: mapped, method: 'upnp', expiresAt: null }] } } as unknown as NatStatus))
    await waitFor('an announce of the mapped port', () => heard(mapped))
    // A torrent added after the change announces the mapped port from the start.
    const later = randomFile(join(d.path, 'share2', 'b.bin'), 50_000)
    const before = tracker.announced.length
    await e.share([later], { announce: [tracker.announce] })
    await waitFor('the new torrent announcing', () => tracker.announced.length > before)
    assert.ok(tracker.announced.slice(before).every((a) => a === `127.0.0.1:${mapped}`), tracker.announced.slice(before).join(', '))
    // A change that restarts the client (here: uTP off) keeps announcing the mapped port.
    const beforeRestart = tracker.announced.length
    await e.updateSettings({ utp: false })
    await waitFor('announces after the restart', () => tracker.announced.length > beforeRestart + 1)
    assert.ok(tracker.announced.slice(beforeRestart).every((a) => a === `127.0.0.1:${mapped}`), tracker.announced.slice(beforeRestart).join(', '))
    // Mapping gone: back to the listening port.
    const count = tracker.announced.length
    e.setAnnouncedPort(null)
    await waitFor('an announce of the listening port again', () => tracker.announced.slice(count).some((a) => a === `127.0.0.1:${e.listeningPort}`))
    assert.equal(mappedPeerPort({ upnp: { mappings: [] } } as unknown as NatStatus), null)
  } finally {
    await e.close()
    await tracker.close()
    d.cleanup()
  }
})

test("a torrent's comment and creator show in its details, also after a restart", async () => {
  const d = tempDir()
  try {
    let e = await openTestEngine({ dataDir: join(d.path, 'data') })
    const src = randomFile(join(d.path, 'share', 'c.bin'), 60_000)
    const { infoHash } = await e.share([src], { comment: 'notes for the swarm' })
    const first = e.detail(infoHash)
    assert.equal(first.comment, 'notes for the swarm')
    assert.match(first.createdBy ?? '', /Shoal/)
    await e.close()
    e = await openTestEngine({ dataDir: join(d.path, 'data') })
    try {
      assert.equal(e.detail(infoHash).comment, 'notes for the swarm')
      assert.equal(e.detail(infoHash).createdBy, first.createdBy)
    } finally { await e.close() }
  } finally { d.cleanup() }
})

test('periodic ticks re-read quiet torrents only now and then, and a peer joining one shows at the next tick', async () => {
  const d = tempDir()
  // Ticks by hand: the timer is set out of the way so the count of ticks is exact.
  const seeder = await openTestEngine({ dataDir: join(d.path, 'seeder'), tickMs: 3600000, settings: { maxUploadSpeed: 256 * 1024 } })
  const leecher = await openTestEngine({ dataDir: join(d.path, 'leecher') })
  try {
    const shares = []
    for (let i = 0; i < 6; i++) shares.push(await seeder.share([randomFile(join(d.path, 'src', `f${i}.bin`), 4 * MiB)], {}))
    assert.ok(seeder.list().every((t) => t.state === 'seeding'), 'all seeding')
    seeder.tick()
    const changes: Array<EventPayloads['torrents.changed']> = []
    seeder.on('torrents.changed', (e) => changes.push(e))
    let built = 0
    const summary = seeder.summary.bind(seeder)
    seeder.summary = (l) => { built++; return summary(l) }
    const periodic = 9
    for (let i = 0; i < periodic; i++) seeder.tick(true)
    assert.ok(built >= 6, `no periodic tick re-read the quiet torrents (${built} summaries)`)
    assert.ok(built <= (periodic * 6) / 2, `${built} summaries in ${periodic} ticks of 6 quiet torrents: they were not skipped`)
    assert.equal(changes.length, 0, 'nothing changed, nothing sent')

    const target = shares[2]!
    await leecher.add(target.magnetURI, { peers: [`127.0.0.1:${seeder.listeningPort}`] })
    await waitFor('the leecher connected', () => seeder.peers(target.infoHash).length > 0, 30000)
    seeder.tick(true)
    const patch = changes.flatMap((c) => c.changed).find((c) => c.infoHash === target.infoHash)?.patch
    assert.ok(patch && (patch.peers ?? 0) + (patch.seeds ?? 0) > 0, `the tick after the connection did not report it: ${JSON.stringify(changes)}`)
    assert.ok(changes.flatMap((c) => c.changed).every((c) => c.infoHash === target.infoHash), 'only the torrent with a peer changed')
    // The global speed still counts the torrent that is serving (quiet ones are left out of the sum).
    await waitFor('upload speed in the global stats', () => { seeder.tick(true); return seeder.stats().uploadSpeed > 0 }, 20000)
  } finally {
    await leecher.close(); await seeder.close(); d.cleanup()
  }
})

test('sharing files again: from the same place is refused as a duplicate; moved elsewhere, the share follows them and still serves', async () => {
  const d = tempDir()
  const seeder = await openTestEngine({ dataDir: join(d.path, 'seeder') })
  const leecher = await openTestEngine({ dataDir: join(d.path, 'leecher') })
  try {
    const src = randomFile(join(d.path, 'a', 'f.bin'), 3 * MiB)
    const want = await sha256File(src)
    const shared = await seeder.share([src], { pieceLength: 65536 })
    await assert.rejects(seeder.share([src], { pieceLength: 65536 }), (err: Error & { code?: string }) => err.code === 'DUPLICATE')
    const addedAt = seeder.list()[0]!.addedAt
    await new Promise((r) => setTimeout(r, 20))
    const moved = join(d.path, 'b', 'f.bin')
    mkdirSync(join(d.path, 'b'))
    renameSync(src, moved)
    const again = await seeder.share([moved], { pieceLength: 65536 })
    assert.equal(again.infoHash, shared.infoHash)
    assert.deepEqual(seeder.list().map((t) => [t.infoHash, t.savePath]), [[shared.infoHash, join(d.path, 'b')]], 'one entry, at the new place')
    assert.equal(seeder.list()[0]!.addedAt, addedAt, 'the moved share keeps the time it was first added')
    await leecher.add(shared.magnetURI, { peers: [`127.0.0.1:${seeder.listeningPort}`] })
    await waitFor('the download from the moved share completes', () => leecher.list()[0]?.progress === 1, 60000)
    assert.equal(await sha256File(join(d.path, 'leecher', 'downloads', 'f.bin')), want)
  } finally {
    await leecher.close(); await seeder.close(); d.cleanup()
  }
})
