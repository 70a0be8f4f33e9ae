// A peer that sends corrupt pieces: a real webtorrent seeder whose copy of the data was altered on
// disk after it claimed every piece (skipVerify), next to an honest Shoal seeder. The download
// completes with the right data, the liar is banned, shown by the engine, disconnected and refused.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { copyFileSync, openSync, readSync, writeSync, closeSync, mkdirSync } from 'node:fs'
import WebTorrent from 'webtorrent'
import { randomFile, sha256File, waitFor } from '../helpers/fixtures.ts'
import { withEngines } from '../helpers/engines.ts'
import { probeHandshake } from '../helpers/raw-peer.ts'
import { buildShare } from '../../main/engine/share-builder.ts'
import { BAN_AFTER } from '../../main/engine/peer-guard.ts'

const MiB = 1024 * 1024
const PIECE = 32 * 1024

/** Flips one byte in each block of every piece: every block it serves is wrong. */
function corruptEveryBlock (path: string, size: number): void {
  const fd = openSync(path, 'r+')
  const b = Buffer.alloc(1)
  for (let off = 100; off < size; off += 16 * 1024) {
    readSync(fd, b, 0, 1, off)
    b[0] = b[0]! ^ 0xff
    writeSync(fd, b, 0, 1, off)
  }
  closeSync(fd)
}

test('a seeder of corrupt pieces is banned after a few, shown as banned, refused; the download completes from the honest one', async () => {
  await withEngines(async ({ dir, open }) => {
    const src = randomFile(join(dir, 'src', 'data.bin'), 4 * MiB)
    const built = await buildShare([src], { pieceLength: PIECE })

    // The liar: plain webtorrent with an altered copy it trusts without checking.
    const liarDir = join(dir, 'liar')
    mkdirSync(liarDir, { recursive: true })
    copyFileSync(src, join(liarDir, 'data.bin'))
    corruptEveryBlock(join(liarDir, 'data.bin'), 4 * MiB)
    const liar = new WebTorrent({ dht: false, lsd: false, tracker: false, natUpnp: false, natPmp: false, utPex: false, utp: false, torrentPort: 0 })
    try {
      await new Promise<void>((r) => liar.once('listening', () => r()))
      const lt = liar.add(built.torrentFile, { path: liarDir, skipVerify: true })
      await new Promise<void>((r) => lt.once('ready', () => r()))
      assert.equal(lt.progress, 1, 'the liar claims every piece')

      const honest = await open('honest', { settings: { pex: false } })
      const shared = await honest.share([src], { pieceLength: PIECE })
      assert.equal(shared.infoHash, built.infoHash)

      const d = await open('d', { settings: { pex: false } })
      // The liar listens on every address; reached as 127.0.0.2 it is a different address from the honest one.
      const liarAddr = `127.0.0.2:${liar.torrentPort}`
      await d.add({ kind: 'torrentBytes', base64: Buffer.from(built.torrentFile).toString('base64') }, {
        peers: [liarAddr, `127.0.0.1:${honest.listeningPort}`]
      })

      await waitFor('the download to complete', () => d.list()[0]?.progress === 1, 120000)
      assert.equal(await sha256File(join(dir, 'd', 'downloads', 'data.bin')), await sha256File(src))

      const banned = await waitFor('the liar banned', () => d.bannedPeers(built.infoHash).find((b) => b.address === '127.0.0.2'), 60000)
      assert.ok(banned.corruptPieces >= BAN_AFTER, `banned after ${banned.corruptPieces} corrupt pieces`)
      assert.equal(banned.reason, `Banned: sent ${banned.corruptPieces} corrupt pieces`)
      assert.equal(banned.infoHash, built.infoHash)
      assert.equal(banned.torrentName, 'data.bin')
      assert.equal(d.bannedPeers().length, 1, 'only the liar is banned, never the honest seeder')
      assert.deepEqual(d.detail(built.infoHash).bannedPeers.map((b) => b.address), ['127.0.0.2'])
      assert.equal(d.stats().bannedPeers, 1)

      // Disconnected on both ends.
      await waitFor('no wire to the liar', () => !d.peers(built.infoHash).some((p) => p.address === '127.0.0.2'), 30000)
      await waitFor('the liar has no wires', () => lt.wires.length === 0, 30000)
      // Refused on reconnect: dialling it again is ignored, and it cannot dial in either.
      d.addPeer(built.infoHash, liarAddr)
      const fromLiar = await probeHandshake(d.listeningPort, built.infoHash, '127.0.0.2')
      assert.deepEqual(fromLiar, { received: 0, closedByPeer: true }, 'a banned address gets no byte back')
      const fromOther = await probeHandshake(d.listeningPort, built.infoHash, '127.0.0.3')
      assert.ok(fromOther.received >= 68, 'an address that is not banned gets a handshake back')
      assert.equal(lt.wires.length, 0)
      assert.ok(!d.peers(built.infoHash).some((p) => p.address === '127.0.0.2'))
    } finally {
      await new Promise<void>((r) => liar.destroy(() => r()))
    }
  })
})
