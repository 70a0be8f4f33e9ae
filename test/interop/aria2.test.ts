// Interop with aria2c (Debian's aria2), both directions, over loopback only, SHA-256 verified.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { tempDir, sha256File, waitFor } from '../helpers/fixtures.ts'
import { Procs, hasBinary, freePort, shoalSeed, assertShoalGetsFrom, shoalPayload, startTracker, tcpOpen, exitWithin, assertRunning } from './helpers/procs.ts'

const SIZE = 12 * 1024 * 1024
// Nothing leaves loopback: no DHT, LPD, PEX; only the trackers we give it.
const ARIA_QUIET = ['--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
  '--disable-ipv6=true', '--console-log-level=warn', '--summary-interval=0', '--file-allocation=none', '--check-certificate=false']

test('aria2c seeds, shoal get downloads (--peer)', { timeout: 150000 }, async (t) => {
  if (!hasBinary('aria2c')) { t.skip('aria2c not installed'); return }
  const dir = tempDir('shoal-interop-aria-')
  const procs = new Procs()
  try {
    const { src, torrent } = shoalPayload(dir.path, SIZE)
    const ariaPort = await freePort()
    const aria = procs.start('aria2c seed', 'aria2c', [...ARIA_QUIET, '-V', '--seed-ratio=0.0', '--seed-time=10',
      `--listen-port=${ariaPort}`, `--dht-listen-port=${ariaPort}`, '-d', join(dir.path, 'seed'), torrent])
    // aria2c listens once it has checked the file (-V).
    await waitFor('aria2c to listen', () => tcpOpen(ariaPort), 30000, 200)
    assert.equal(aria.child.exitCode, null, `aria2c exited early:\n${aria.output()}`)
    await assertShoalGetsFrom(procs, torrent, dir.path, `127.0.0.1:${ariaPort}`, src)
  } finally {
    await procs.stopAll()
    dir.cleanup()
  }
})

test('shoal seed seeds, aria2c downloads (local tracker)', { timeout: 150000 }, async (t) => {
  if (!hasBinary('aria2c')) { t.skip('aria2c not installed'); return }
  const dir = tempDir('shoal-interop-aria-')
  const procs = new Procs()
  const tracker = await startTracker()
  try {
    const { src, torrent, infoHash } = shoalPayload(dir.path, SIZE, tracker.announce)
    const { proc: seed } = await shoalSeed(procs, src, { port: await freePort(), data: join(dir.path, 'data'), announce: tracker.announce, infoHash })
    await waitFor('shoal seed to announce to the local tracker', () => tracker.peerCount(infoHash) >= 1, 30000)
    const out = join(dir.path, 'out')
    const ariaPort = await freePort()
    const aria = procs.start('aria2c get', 'aria2c', [...ARIA_QUIET, '--seed-time=0', '--bt-stop-timeout=90',
      `--listen-port=${ariaPort}`, `--dht-listen-port=${ariaPort}`, '-d', out, torrent])
    const done = await exitWithin(aria, 100000)
    assert.equal(done, 0, `aria2c did not finish (${done}):\n${procs.describe()}`)
    assert.equal(await sha256File(join(out, 'payload.bin')), await sha256File(src))
    assertRunning(seed)
  } finally {
    await procs.stopAll()
    await tracker.close()
    dir.cleanup()
  }
})
