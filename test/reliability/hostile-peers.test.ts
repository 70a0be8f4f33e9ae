// Hostile raw peers against real Shoal engines in the middle of a real transfer: a huge ut_metadata
// size while a magnet fetches metadata, a flood of requests (valid, invalid, oversized) from a peer
// that never reads, garbage after a handshake and instead of one, and hundreds of sockets that never
// handshake. The engines must not crash, the honest transfers must complete with the right data,
// and memory must stay bounded (outcome bound on the test process, which holds every engine).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import bencode from 'bencode'
import { randomFile, sha256File, waitFor } from '../helpers/fixtures.ts'
import { withEngines } from '../helpers/engines.ts'
import { RawPeer, extended, message, openSocket } from '../helpers/raw-peer.ts'
import { writeFigures } from './figures.ts'

const MiB = 1024 * 1024
const RSS_BOUND = 150 * MiB
const IDLE_SOCKETS = 300

/** Samples RSS and heap until stopped; returns the peaks. */
function sampleMemory (): { stop: () => { peakRss: number; peakHeap: number } } {
  let peakRss = process.memoryUsage.rss()
  let peakHeap = process.memoryUsage().heapUsed
  const t = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
  }, 25)
  return { stop: () => { clearInterval(t); return { peakRss, peakHeap } } }
}

const EXT_HANDSHAKE = 0
const OUR_UT_METADATA = 3

test('hostile raw peers: huge metadata size, request floods, garbage, idle sockets; transfers complete, memory bounded', async () => {
  const raw: RawPeer[] = []
  const idleSockets: Socket[] = []
  const track = (p: RawPeer) => { raw.push(p); return p }
  try {
  await withEngines(async ({ dir, open }) => {
    const src = randomFile(join(dir, 'src', 'honest.bin'), 8 * MiB)
    // The honest seeder is throttled so that the attacks overlap the transfers.
    const seeder = await open('seeder', { settings: { pex: false, maxUploadSpeed: 2 * MiB } })
    const shared = await seeder.share([src])
    const infoHash = shared.infoHash
    const down = await open('down', { settings: { pex: false } })
    const magnetOnly = await open('magnet', { settings: { pex: false } })

    global.gc?.()
    const before = { rss: process.memoryUsage.rss(), heap: process.memoryUsage().heapUsed }
    const mem = sampleMemory()
    const lines: string[] = []

    // (a) A magnet still fetching metadata meets a peer that claims a 2 GiB info dictionary.
    await magnetOnly.add(`magnet:?xt=urn:btih:${infoHash}`)
    assert.equal(magnetOnly.list()[0]!.state, 'metadata')
    const liarMeta = track(await RawPeer.open(magnetOnly.listeningPort, infoHash))
    await liarMeta.write(extended(EXT_HANDSHAKE, bencode.encode({ m: { ut_metadata: OUR_UT_METADATA }, metadata_size: 2 ** 31, v: 'hostile' })))
    await waitFor('the engine to answer the hostile extended handshake', () => liarMeta.seen.some((m) => m.id === 20 && m.extId === EXT_HANDSHAKE), 30000)

    // The download and the magnet start from the honest seeder.
    await down.add(shared.magnetURI, { peers: [`127.0.0.1:${seeder.listeningPort}`] })
    magnetOnly.addPeer(infoHash, `127.0.0.1:${seeder.listeningPort}`)

    // (b) Request floods on the seeder: a peer that asks for everything and never reads its socket...
    const flood = track(await RawPeer.open(seeder.listeningPort, infoHash))
    await flood.write(extended(EXT_HANDSHAKE, bencode.encode({ m: {} })))
    // Interested once the seeder has said what it has (bitfield), as a real peer would.
    await waitFor('the seeder\'s bitfield', () => flood.seen.some((m) => m.id === 5), 30000)
    await flood.write(message(2))
    await waitFor('the seeder to unchoke the flooder', () => flood.seen.some((m) => m.id === 1), 30000)
    flood.socket.pause() // read nothing more: whatever the seeder queues for it stays in memory
    const { pieceCount, pieceLength } = seeder.detail(infoHash)
    const blocksPerPiece = pieceLength / 16384
    let floodRequests = 0
    const req = (index: number, offset: number, length: number) => {
      const p = Buffer.alloc(12)
      p.writeUInt32BE(index, 0); p.writeUInt32BE(offset, 4); p.writeUInt32BE(length, 8)
      floodRequests++
      return message(6, p)
    }
    for (let round = 0; round < 10 && !flood.gone; round++) {
      const batch: Buffer[] = []
      for (let i = 0; i < 2000; i++) {
        const k = i % 4
        if (k === 0) batch.push(req(i % pieceCount, (i % blocksPerPiece) * 16384, 16384)) // valid
        else if (k === 1) batch.push(req(1000000 + i, 0, 16384)) // no such piece
        else if (k === 2) batch.push(req(i % pieceCount, pieceLength - 8192, 16384)) // runs past the piece's end
        else batch.push(req(i % pieceCount, 0, 0)) // empty
      }
      await flood.write(Buffer.concat(batch))
    }
    // ...and one that asks for blocks over 128 KiB, which the spec says to disconnect.
    const oversized = track(await RawPeer.open(seeder.listeningPort, infoHash))
    await waitFor('the seeder\'s bitfield to the second flooder', () => oversized.seen.some((m) => m.id === 5), 30000)
    await oversized.write(message(2))
    await waitFor('the seeder to unchoke the second flooder', () => oversized.seen.some((m) => m.id === 1), 30000)
    await oversized.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => req(i % pieceCount, 0, 17 * 16384 * 1 + i))))
    await waitFor('the seeder to drop the oversized requester', () => oversized.closed, 30000)

    // (c) Garbage: after a valid handshake (a 4 GiB-ish length prefix, then noise), and instead of one.
    const garbage = track(await RawPeer.open(down.listeningPort, infoHash))
    await waitFor('the downloader to handshake the garbage peer', () => garbage.handshakeReceived, 30000)
    let garbageSent = 0
    for (let i = 0; i < 256 && !garbage.gone; i++) {
      const chunk = randomBytes(256 * 1024)
      if (i === 0) chunk.writeUInt32BE(0xfffffff0, 0)
      if (await garbage.write(chunk)) garbageSent += chunk.length
    }
    await waitFor('the downloader to drop the garbage peer', () => garbage.closed, 30000)
    const noise = track(await RawPeer.open(down.listeningPort, null))
    for (let i = 0; i < 64 && !noise.gone; i++) await noise.write(randomBytes(64 * 1024))
    await waitFor('the downloader to drop the noise peer', () => noise.closed, 30000)

    // (d) Sockets that connect to the downloader and never say a word.
    const idle = await Promise.all(Array.from({ length: IDLE_SOCKETS }, () => openSocket(down.listeningPort)))
    idleSockets.push(...idle)
    let idleClosed = 0
    for (const s of idle) { s.on('error', () => {}); s.on('close', () => { idleClosed++ }) }

    // The honest transfers complete, with the right data.
    await waitFor('the download to complete', () => down.list()[0]?.progress === 1, 180000)
    await waitFor('the magnet download to complete', () => magnetOnly.list()[0]?.progress === 1, 180000)
    const want = await sha256File(src)
    assert.equal(await sha256File(join(dir, 'down', 'downloads', 'honest.bin')), want)
    assert.equal(await sha256File(join(dir, 'magnet', 'downloads', 'honest.bin')), want)
    // The engine never asked the metadata liar for a piece of its 2 GiB dictionary.
    assert.ok(!liarMeta.seen.some((m) => m.id === 20 && m.extId === OUR_UT_METADATA), 'no ut_metadata request to the liar')
    // Idle sockets are dropped at the handshake timeout, not held forever.
    await waitFor('every idle socket closed by the engine', () => idleClosed === IDLE_SOCKETS, 120000)

    const peak = mem.stop()
    const growth = peak.peakRss - before.rss
    const rejectsOrPieces = flood.seen.length

    lines.push(`metadata liar (metadata_size 2^31): no ut_metadata request sent; the magnet completed from the honest peer`)
    lines.push(`request flood: ${floodRequests} requests (1/4 valid, others for no such piece, past the piece end, empty) from a peer that never read; ${rejectsOrPieces} messages had reached it`)
    lines.push(`oversized requests (> 128 KiB): peer disconnected`)
    lines.push(`garbage after handshake: dropped after ${(garbageSent / MiB).toFixed(2)} MiB sent; garbage instead of a handshake: dropped`)
    lines.push(`${IDLE_SOCKETS} idle sockets: all closed by the engine (handshake timeout)`)
    lines.push(`test process RSS ${(before.rss / MiB).toFixed(0)} MiB before, peak ${(peak.peakRss / MiB).toFixed(0)} MiB (+${(growth / MiB).toFixed(0)} MiB, bound +${RSS_BOUND / MiB}); heap ${(before.heap / MiB).toFixed(0)} -> peak ${(peak.peakHeap / MiB).toFixed(0)} MiB`)
    writeFigures('hostile-peers', {
      title: 'Hostile raw peers (one process: seeder, downloader, magnet downloader)',
      reportLines: lines,
      floodRequests,
      garbageBytesSentBeforeDrop: garbageSent,
      idleSockets: IDLE_SOCKETS,
      rssBeforeBytes: before.rss,
      rssPeakDuringBytes: peak.peakRss,
      heapBeforeBytes: before.heap,
      heapPeakDuringBytes: peak.peakHeap
    })
    assert.ok(growth < RSS_BOUND, `RSS grew by ${(growth / MiB).toFixed(0)} MiB (bound ${RSS_BOUND / MiB} MiB)`)
    assert.ok(garbageSent < 64 * MiB, 'garbage was not read on and on')
  })
  } finally {
    for (const p of raw) p.close()
    for (const s of idleSockets) s.destroy()
  }
})
