// Interop with Transmission (transmission-daemon 3.00), both directions, loopback only, SHA-256
// verified. Transmission 3.00 does not dial 127.x peers it hears of but accepts incoming ones, so
// Shoal always dials: --peer when Shoal downloads; when Shoal seeds, Transmission announces to a
// local tracker first and Shoal's announce returns Transmission's address.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { tempDir, sha256File, waitFor } from '../helpers/fixtures.ts'
import { Procs, hasBinary, freePort, shoalSeed, assertShoalGetsFrom, shoalPayload, startTracker, assertRunning } from './helpers/procs.ts'
import { Transmission } from './helpers/transmission.ts'

const SIZE = 12 * 1024 * 1024
const haveTransmission = () => hasBinary('transmission-daemon') && hasBinary('transmission-remote')

test('transmission-daemon seeds, shoal get downloads (--peer)', { timeout: 150000 }, async (t) => {
  if (!haveTransmission()) { t.skip('transmission-daemon/transmission-remote not installed'); return }
  const dir = tempDir('shoal-interop-tr-')
  const procs = new Procs()
  try {
    const { src, torrent } = shoalPayload(dir.path, SIZE)
    const tr = await Transmission.start(procs, join(dir.path, 'tr'), join(dir.path, 'seed'))
    tr.add(torrent, join(dir.path, 'seed'))
    await waitFor('Transmission to verify the file and seed', () => {
      const i = tr.info()
      return i.percent === 100 && /Seeding|Idle/.test(i.state)
    }, 60000, 500)
    await assertShoalGetsFrom(procs, torrent, dir.path, `127.0.0.1:${tr.peerPort}`, src)
  } finally {
    await procs.stopAll()
    dir.cleanup()
  }
})

test('shoal seed seeds, transmission-daemon downloads (local tracker, Shoal dials)', { timeout: 150000 }, async (t) => {
  if (!haveTransmission()) { t.skip('transmission-daemon/transmission-remote not installed'); return }
  const dir = tempDir('shoal-interop-tr-')
  const procs = new Procs()
  const tracker = await startTracker()
  try {
    const { src, torrent, infoHash } = shoalPayload(dir.path, SIZE, tracker.announce)
    const out = join(dir.path, 'out')
    const tr = await Transmission.start(procs, join(dir.path, 'tr'), out)
    tr.add(torrent, out)
    await waitFor('Transmission to announce to the local tracker', () => tracker.peerCount(infoHash) >= 1, 30000)
    const { proc: seed } = await shoalSeed(procs, src, { port: await freePort(), data: join(dir.path, 'data'), announce: tracker.announce, infoHash })
    await waitFor('Transmission to download from shoal', () => tr.info().percent === 100, 90000, 500)
      .catch((err: Error) => { throw new Error(`${err.message}\n${tr.info().out}\n${procs.describe()}`) })
    assert.equal(await sha256File(join(out, 'payload.bin')), await sha256File(src))
    assertRunning(seed)
  } finally {
    await procs.stopAll()
    await tracker.close()
    dir.cleanup()
  }
})
