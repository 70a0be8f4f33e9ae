// Interop with aria2c (Debian's aria2), both directions, over loopback only, SHA-256 verified.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { tempDir, sha256File, waitFor } from '../helpers/fixtures.ts'
import { countingProxy, type CountingProxy } from '../helpers/count-proxy.ts'
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

/**
 * The most requests one connection had outstanding at aria2c, per connection (aria2's CUID), from
 * its info log: each request it received counts up, each piece it sent or request cancelled down.
 */
function outstandingAtAria (log: string): number[] {
  const now = new Map<string, number>()
  const most = new Map<string, number>()
  for (const line of log.split('\n')) {
    const m = /CUID#(\d+) - (From|To): \S+ (request|piece|cancel) index=/.exec(line)
    if (!m) continue
    const [, cuid, dir, kind] = m as unknown as [string, string, string, string]
    const up = dir === 'From' && kind === 'request'
    const down = (dir === 'To' && kind === 'piece') || (dir === 'From' && kind === 'cancel')
    if (!up && !down) continue
    const n = (now.get(cuid) ?? 0) + (up ? 1 : -1)
    now.set(cuid, n)
    most.set(cuid, Math.max(most.get(cuid) ?? 0, n))
  }
  return [...most.values()]
}

// aria2 reads every requested block into a new buffer each time it writes to a peer, so the more
// requests a peer keeps outstanding, the more each block costs it (README, Performance): Shoal keeps
// few out to aria2c on a short path, and as many as the path needs on a long one.
test('from aria2c, shoal get keeps few requests outstanding on loopback and more on a 50 ms path', { timeout: 180000 }, async (t) => {
  if (!hasBinary('aria2c')) { t.skip('aria2c not installed'); return }
  const dir = tempDir('shoal-interop-aria-')
  const procs = new Procs()
  const log = join(dir.path, 'aria2.log')
  let slow: CountingProxy | null = null
  try {
    const { src, torrent } = shoalPayload(dir.path, 32 * 1024 * 1024)
    const ariaPort = await freePort()
    const aria = procs.start('aria2c seed', 'aria2c', [...ARIA_QUIET, '-V', '--seed-ratio=0.0', '--seed-time=60',
      `--log=${log}`, '--log-level=info', `--listen-port=${ariaPort}`, `--dht-listen-port=${ariaPort}`, '-d', join(dir.path, 'seed'), torrent])
    await waitFor('aria2c to listen', () => tcpOpen(ariaPort), 30000, 200)
    assert.equal(aria.child.exitCode, null, `aria2c exited early:\n${aria.output()}`)

    await assertShoalGetsFrom(procs, torrent, join(dir.path, 'direct'), `127.0.0.1:${ariaPort}`, src)
    const [direct, ...others] = outstandingAtAria(readFileSync(log, 'utf8'))
    assert.equal(others.length, 0, 'one connection so far')
    assert.ok(direct !== undefined && direct >= 8, `aria2c saw ${direct} requests outstanding at most: the log did not show the transfer`)
    assert.ok(direct <= 64, `${direct} requests were outstanding at aria2c over loopback at once, more than it serves well`)

    slow = await countingProxy(ariaPort, '127.0.0.1', { delayMs: 25 })
    await assertShoalGetsFrom(procs, torrent, join(dir.path, 'slow'), `127.0.0.1:${slow.port}`, src)
    const [, far] = outstandingAtAria(readFileSync(log, 'utf8'))
    // 24 blocks per 50 ms round trip is 7.5 MiB/s: a path this long needs more out at once
    assert.ok(far !== undefined && far > 2 * direct, `over the 50 ms path at most ${far} requests were outstanding (loopback ${direct})`)
    t.diagnostic(`most requests outstanding at aria2c: loopback ${direct}, 50 ms path ${far}`)
  } finally {
    await slow?.close()
    await procs.stopAll()
    dir.cleanup()
  }
})
