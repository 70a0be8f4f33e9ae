// How a seeding `shoal serve` answers a burst of block requests from a raw peer: every block it
// sends is byte-exact (runs read from disk as one and served as views, pieces that span two files,
// a block cancelled inside a run, blocks asked twice), and the burst costs a few disk reads and
// socket writes, not one or two per block (the server's syscalls, traced by strace).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir, randomFile, sha256File, waitFor, watchDetaches } from '../helpers/fixtures.ts'
import { RawPeer, extended, message } from '../helpers/raw-peer.ts'
import { startServe, WsApi } from '../e2e/harness.ts'
import { withEngines } from '../helpers/engines.ts'
import { runCli } from '../helpers/cli.ts'
import { attachStrace } from '../helpers/strace.ts'
import bencode from 'bencode'

const KiB = 1024
const BLOCK = 16 * KiB
const PIECE = 256 * KiB

/**
 * The server's syscalls while `work` runs, traced by strace (-yy names each descriptor and socket): reads of
 * the shared files and writes to the socket whose remote port is `peerLocalPort`. The kernel's
 * per-process counters (/proc/<pid>/io) also count the event loop's wake-ups, which V8 posts more
 * often with a small young generation, and a hash worker finishing meanwhile: hundreds, either way.
 */
async function traced (pid: number, share: string, peerLocalPort: number, out: string, work: () => Promise<void>): Promise<{ reads: number; writes: number }> {
  const st = await attachStrace(pid, ['-f', '-yy', '-ttt', '-e', 'trace=read,pread64,readv,preadv,preadv2,write,writev,pwrite64'], out)
  const from = Date.now() / 1000
  await work()
  const to = Date.now() / 1000
  await st.stop()
  let reads = 0
  let writes = 0
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const m = /^\d+\s+(\d+\.\d+) (\w+)\(\d+<(.+?)>[,)]/.exec(line) // a socket's name has '->' in it
    if (!m || Number(m[1]) < from || Number(m[1]) > to) continue
    if (m[2]!.includes('read') && m[3]!.startsWith(share)) reads++
    if (m[2]!.includes('write') && m[3]!.endsWith(`:${peerLocalPort}]`)) writes++
  }
  return { reads, writes }
}

function blockMsg (id: number, index: number, offset: number, length = BLOCK): Buffer {
  const p = Buffer.alloc(12)
  p.writeUInt32BE(index, 0); p.writeUInt32BE(offset, 4); p.writeUInt32BE(length, 8)
  return message(id, p)
}

test('a burst of requests is served byte-exact from a few disk reads and socket writes', async (t) => {
  const dir = tempDir('shoal-serving-')
  const served = await startServe(join(dir.path, 'data'))
  const api = await WsApi.open(served)
  let peer: RawPeer | null = null
  try {
    // Three files whose sizes are not multiples of a piece: pieces 1 and 4 span two files each.
    const share = join(dir.path, 'share')
    const files = [randomFile(join(share, 'a.bin'), 300 * KiB + 7), randomFile(join(share, 'b.bin'), 900 * KiB), randomFile(join(share, 'c.bin'), 1100 * KiB)]
    const whole = Buffer.concat(files.map((f) => readFileSync(f)))
    const { infoHash } = await api.call<{ infoHash: string }>('torrent.share', { paths: [share], options: { pieceLength: PIECE } })
    await waitFor('the share to seed', async () => {
      const list = await api.call<Array<{ infoHash: string; state: string }>>('torrents.list')
      return list.some((t) => t.infoHash === infoHash && t.state === 'seeding')
    }, 60000, 50)
    const lastPiece = Math.ceil(whole.length / PIECE) - 1

    const blocks = new Map<string, Buffer>()
    peer = await RawPeer.open(served.peerPort, infoHash, { onPiece: (index, offset, data) => { blocks.set(`${index}:${offset}`, Buffer.from(data)) } })
    await peer.write(extended(0, bencode.encode({ m: {} })))
    await waitFor('the bitfield', () => peer!.seen.some((m) => m.id === 5 || m.id === 14), 30000)
    await peer.write(message(2)) // interested
    await waitFor('an unchoke', () => peer!.seen.some((m) => m.id === 1), 30000)

    // One write: every block of pieces 0-4 in order (runs, two of them across files), piece 5's
    // blocks in reverse (no run), the last piece's first block, five blocks asked twice, and a
    // cancel of block 4 of piece 2, which arrives before the run holding it has been read.
    const want: Array<[number, number, number]> = []
    for (let p = 0; p <= 4; p++) for (let o = 0; o < PIECE; o += BLOCK) want.push([p, o, BLOCK])
    for (let o = PIECE - BLOCK; o >= 0; o -= BLOCK) want.push([5, o, BLOCK])
    const lastLength = whole.length - lastPiece * PIECE
    want.push([lastPiece, 0, Math.min(BLOCK, lastLength)])
    // Asked twice: a block inside each run of pieces 0-4 again, each read on its own and likely to
    // finish before its run (the first request must not be taken for the second).
    for (let p = 0; p <= 4; p++) want.push([p, BLOCK * (1 + p), BLOCK])
    const cancelled = `2:${4 * BLOCK}`
    const burst = Buffer.concat([...want.map(([i, o, l]) => blockMsg(6, i, o, l)), blockMsg(8, 2, 4 * BLOCK)])

    const expected = new Set(want.map(([i, o]) => `${i}:${o}`))
    expected.delete(cancelled)
    const counted = await traced(served.child.pid!, share, peer.socket.localPort!, join(dir.path, 'strace.out'), async () => {
      await peer!.write(burst)
      await waitFor('every requested block', () => [...expected].every((k) => blocks.has(k)), 30000, 20)
    })

    for (const [i, o, l] of want) {
      const key = `${i}:${o}`
      if (key === cancelled) continue
      const got = blocks.get(key)!
      assert.equal(got.length, l, `block ${key} length`)
      assert.ok(got.equals(whole.subarray(i * PIECE + o, i * PIECE + o + l)), `block ${key} has the file's bytes`)
    }
    // A cancel that arrives before the block is sent means it is not sent.
    assert.equal(blocks.has(cancelled), false, 'the cancelled block was not sent')

    // 102 blocks (1.6 MiB): one disk read and one socket write each, twice for the writes (header
    // and block), would be about 110 reads and 200 writes. Runs and batched writes need about 35
    // reads (one per run per file, 16 for the reversed piece, 5 for the repeats) and about 10.
    const { reads, writes } = counted
    t.diagnostic(`${reads} file reads, ${writes} socket writes`)
    assert.ok(reads <= 50, `${reads} file reads for ${want.length} blocks`)
    assert.ok(writes <= 30, `${writes} socket writes for ${want.length} blocks`)
  } finally {
    peer?.close()
    api.close()
    await served.stop()
    dir.cleanup()
  }
})

test('a seeder frees each run it read once its socket has written every block of it, and the download is intact', async (t) => {
  // Runs (up to 1 MiB) that outlived two young collections waited for a full collection, which V8
  // starts only after ~64 MiB of such memory: a plaintext seeder's arrayBuffers reached 17-22 MiB
  // for under 10 MiB in flight (README, Performance). The downloader is a `shoal get` process, so
  // every buffer detached in this process is the seeder's.
  const size = 16 * 1024 * KiB
  let counting = false
  let freedBytes = 0
  const stopWatching = watchDetaches((buffer) => { if (counting) freedBytes += buffer.byteLength })
  try {
    await withEngines(async (ctx) => {
      const src = randomFile(join(ctx.dir, 'src', 'runs.bin'), size)
      const seeder = await ctx.open('s', { settings: { pex: false } })
      const shared = await seeder.share([src], { pieceLength: PIECE })
      await waitFor('the share to seed', () => seeder.list()[0]?.state === 'seeding', 60000)
      counting = true
      const out = join(ctx.dir, 'out')
      const get = runCli(['get', shared.magnetURI, '--out', out, '--no-dht', '--no-lsd', '--port', '0', '--data', join(ctx.dir, 'g'), '--json', '--peer', `127.0.0.1:${seeder.listeningPort}`])
      try {
        await waitFor('the download', () => get.lines.some((l) => l.startsWith('{"type":"done"')), 120000, 50)
      } finally {
        get.kill()
        await get.exited
      }
      assert.equal(await sha256File(join(out, 'runs.bin')), await sha256File(src), 'no run was freed before all of it was sent')
      // Every run whose blocks were all written is freed; a block the downloader cancels after its
      // run was read would keep that run for the collector, so not quite all of them are asked for.
      t.diagnostic(`${(freedBytes / KiB / 1024).toFixed(1)} of ${size / KiB / 1024} MiB freed as written`)
      assert.ok(freedBytes >= size * 0.75, `runs freed once written: ${(freedBytes / KiB / 1024).toFixed(1)} of ${size / KiB / 1024} MiB sent`)
    })
  } finally {
    stopWatching()
  }
})
