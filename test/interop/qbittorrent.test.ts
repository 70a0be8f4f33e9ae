// Interop with qBittorrent (qbittorrent-nox 4.5, libtorrent 2.0), both directions, over TCP and over
// uTP, loopback only, SHA-256 verified. Peers are connected directly (shoal get --peer; qBittorrent's addPeers).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { tempDir, sha256File, waitFor } from '../helpers/fixtures.ts'
import { Procs, hasBinary, freePort, shoalSeed, assertShoalGetsFrom, shoalPayload, assertRunning, shoalGet } from './helpers/procs.ts'
import { Qbit, type QbitTransport } from './helpers/qbittorrent.ts'

const SIZE = 12 * 1024 * 1024
const SEEDING = new Set(['uploading', 'stalledUP', 'pausedUP', 'queuedUP', 'forcedUP'])

/** A qbittorrent-nox (on `transport`) seeding <dir>/seed/payload.bin, checked and ready. */
async function qbitSeeding (procs: Procs, dir: string, torrent: string, infoHash: string, transport: QbitTransport): Promise<Qbit> {
  const qb = await Qbit.start(procs, join(dir, 'qbit'), 'allow', transport)
  await qb.addTorrent(torrent, join(dir, 'seed'))
  await waitFor('qBittorrent to check the file and seed', async () => {
    const i = await qb.info(infoHash)
    return i && i.progress === 1 && SEEDING.has(i.state)
  }, 60000, 250)
  return qb
}

/**
 * `shoal seed` of a new payload, and a qbittorrent-nox (on `transport`) downloading it from that
 * peer alone; asserts the copy is byte for byte and the seeder still runs. Returns how qBittorrent
 * said it was connected, over the whole download.
 */
async function qbitDownloadsFromShoal (dir: string, transport: QbitTransport): Promise<string[]> {
  const procs = new Procs()
  try {
    const { src, torrent, infoHash } = shoalPayload(dir, SIZE)
    const shoalPort = await freePort()
    const { proc: seed } = await shoalSeed(procs, src, { port: shoalPort, data: join(dir, 'data'), infoHash })
    const qb = await Qbit.start(procs, join(dir, 'qbit'), 'allow', transport)
    const out = join(dir, 'out')
    await qb.addTorrent(torrent, out)
    await waitFor('qBittorrent to list the torrent', () => qb.info(infoHash), 30000, 250)
    const seen = new Set<string>()
    // addPeers again every few seconds until it is connected: libtorrent drops a peer it failed to reach.
    let lastAdd = 0
    await waitFor('qBittorrent to download from shoal', async () => {
      for (const c of await qb.peerConnections(infoHash)) seen.add(c)
      const i = await qb.info(infoHash)
      if (i && i.progress === 1 && SEEDING.has(i.state)) return true
      if (Date.now() - lastAdd > 5000) { lastAdd = Date.now(); await qb.addPeer(infoHash, `127.0.0.1:${shoalPort}`) }
      return false
    }, 90000, 250).catch((err: Error) => { throw new Error(`${err.message}\n${procs.describe()}`) })
    assert.equal(await sha256File(join(out, 'payload.bin')), await sha256File(src))
    assertRunning(seed)
    return [...seen]
  } finally {
    await procs.stopAll()
  }
}

test('qbittorrent-nox seeds, shoal get downloads (--peer)', { timeout: 150000 }, async (t) => {
  if (!hasBinary('qbittorrent-nox')) { t.skip('qbittorrent-nox not installed'); return }
  const dir = tempDir('shoal-interop-qbit-')
  const procs = new Procs()
  try {
    const { src, torrent, infoHash } = shoalPayload(dir.path, SIZE)
    const qb = await qbitSeeding(procs, dir.path, torrent, infoHash, 'tcp')
    await assertShoalGetsFrom(procs, torrent, dir.path, `127.0.0.1:${qb.peerPort}`, src)
  } finally {
    await procs.stopAll()
    dir.cleanup()
  }
})

test('shoal seed seeds, qbittorrent-nox downloads (addPeers)', { timeout: 150000 }, async (t) => {
  if (!hasBinary('qbittorrent-nox')) { t.skip('qbittorrent-nox not installed'); return }
  const dir = tempDir('shoal-interop-qbit-')
  try {
    assert.deepEqual(await qbitDownloadsFromShoal(dir.path, 'tcp'), ['BT'], 'qBittorrent reached shoal over TCP')
  } finally {
    dir.cleanup()
  }
})

// qBittorrent with TCP off (Session\BTProtocol=UTP) still listens on TCP but closes every
// connection there at once: Shoal's TCP dial connects, so only "closed before the handshake" can
// send it to uTP. libtorrent then stalls the uTP FIN exchange and libutp resends its FIN for
// about 30 s; `shoal get` must not wait for that.
test('a uTP-only qbittorrent-nox seeds, shoal get downloads over uTP and exits once done', { timeout: 150000 }, async (t) => {
  if (!hasBinary('qbittorrent-nox')) { t.skip('qbittorrent-nox not installed'); return }
  const dir = tempDir('shoal-interop-qbit-utp-')
  const procs = new Procs()
  try {
    const { src, torrent, infoHash } = shoalPayload(dir.path, SIZE)
    const qb = await qbitSeeding(procs, dir.path, torrent, infoHash, 'utp')
    const out = join(dir.path, 'out')
    const { code, proc, doneAt, exitedAt } = await shoalGet(procs, torrent, { out, data: join(dir.path, 'data'), port: await freePort(), peers: [`127.0.0.1:${qb.peerPort}`], timeoutS: 90 })
    assert.equal(code, 0, `shoal get failed:\n${proc.output().split('\n').slice(-5).join('\n')}\n${procs.describe()}`)
    assert.equal(await sha256File(join(out, 'payload.bin')), await sha256File(src))
    assert.ok(doneAt !== null, 'shoal get printed no "done" line')
    assert.ok(exitedAt - doneAt < 15000, `shoal get exited ${exitedAt - doneAt} ms after printing done`)
  } finally {
    await procs.stopAll()
    dir.cleanup()
  }
})

test('shoal seed seeds, a uTP-only qbittorrent-nox downloads over uTP (addPeers)', { timeout: 150000 }, async (t) => {
  if (!hasBinary('qbittorrent-nox')) { t.skip('qbittorrent-nox not installed'); return }
  const dir = tempDir('shoal-interop-qbit-utp-')
  try {
    assert.deepEqual(await qbitDownloadsFromShoal(dir.path, 'utp'), ['μTP'], 'qBittorrent reached shoal over uTP only')
  } finally {
    dir.cleanup()
  }
})
