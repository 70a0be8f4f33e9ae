// Transports and discovery beyond plain TCP + HTTP tracker: UDP tracker, web seed, required
// encryption, a download limit (from the start, and switched on and off during a transfer).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createServer } from 'node:http'
import { createReadStream, statSync } from 'node:fs'
import bencode from 'bencode'
import { Server as TrackerServer } from 'bittorrent-tracker'
import { tempDir, randomFile, sha256File, waitFor } from '../helpers/fixtures.ts'
import { openTestEngine } from '../helpers/engines.ts'
import { buildShare } from '../../main/engine/share-builder.ts'

const MiB = 1024 * 1024

async function udpTracker (): Promise<{ announce: string; close: () => Promise<void> }> {
  const server = new TrackerServer({ udp: true, http: false, ws: false, stats: false })
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, { http: '127.0.0.1', udp: '127.0.0.1', udp6: '::1' }, () => resolve()) })
  const port = (server.udp4!.address() as { port: number }).port
  return { announce: `udp://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) }
}

test('UDP tracker: peers meet through udp://', async () => {
  const tr = await udpTracker()
  const d = tempDir()
  const a = await openTestEngine({ dataDir: join(d.path, 'a') })
  const b = await openTestEngine({ dataDir: join(d.path, 'b') })
  try {
    const src = randomFile(join(d.path, 'src', 'u.bin'), 2 * MiB)
    const s = await a.share([src], { announce: [tr.announce] })
    await b.add(s.magnetURI)
    await waitFor('download via UDP tracker', () => b.list()[0]?.progress === 1, 60000)
    assert.equal(await sha256File(join(d.path, 'b', 'downloads', 'u.bin')), await sha256File(src))
    const trackers = b.detail(s.infoHash).trackers
    assert.equal(trackers[0]?.url, tr.announce)
    assert.equal(trackers[0]?.status, 'working')
  } finally { await a.close(); await b.close(); await tr.close(); d.cleanup() }
})

test('web seed: a torrent with a url-list downloads from a plain HTTP server, no peers', async () => {
  const d = tempDir()
  const src = randomFile(join(d.path, 'www', 'w.bin'), 3 * MiB)
  const size = statSync(src).size
  let requests = 0
  const http = createServer((req, res) => {
    requests++
    const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '')
    const start = m ? Number(m[1]) : 0
    const end = m && m[2] ? Number(m[2]) : size - 1
    res.writeHead(m ? 206 : 200, { 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Accept-Ranges': 'bytes' })
    createReadStream(src, { start, end }).pipe(res)
  })
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()))
  const b = await openTestEngine({ dataDir: join(d.path, 'b') })
  try {
    const built = await buildShare([src])
    const dict = bencode.decode(built.torrentFile) as Record<string, unknown>
    dict['url-list'] = [Buffer.from(`http://127.0.0.1:${(http.address() as { port: number }).port}/w.bin`)]
    await b.add({ kind: 'torrentBytes', base64: Buffer.from(bencode.encode(dict)).toString('base64') })
    await waitFor('download from the web seed', () => b.list()[0]?.progress === 1, 60000)
    assert.equal(await sha256File(join(d.path, 'b', 'downloads', 'w.bin')), await sha256File(src))
    assert.ok(requests > 0, 'the HTTP server served ranges')
  } finally { await b.close(); http.close(); d.cleanup() }
})

test('encryption required on both sides: the connection is encrypted (MSE/PE) and completes', async () => {
  const d = tempDir()
  const a = await openTestEngine({ dataDir: join(d.path, 'a'), settings: { encryption: 'require' } })
  const b = await openTestEngine({ dataDir: join(d.path, 'b'), settings: { encryption: 'require' } })
  try {
    const src = randomFile(join(d.path, 'src', 'e.bin'), 2 * MiB)
    const s = await a.share([src])
    await b.add(s.magnetURI, { peers: [`127.0.0.1:${a.listeningPort}`] })
    const peer = await waitFor('an encrypted peer', () => b.peers(s.infoHash).find((p) => p.flags.encrypted), 30000)
    assert.equal(peer.client.startsWith('WebTorrent'), true, `client name from the peer id: ${peer.client}`)
    assert.equal(peer.transport, 'tcp')
    await waitFor('complete', () => b.list()[0]?.progress === 1, 60000)
    assert.equal(await sha256File(join(d.path, 'b', 'downloads', 'e.bin')), await sha256File(src))
  } finally { await a.close(); await b.close(); d.cleanup() }
})

test('a global download limit holds the rate down (lower bound on time only)', async () => {
  const d = tempDir()
  const a = await openTestEngine({ dataDir: join(d.path, 'a') })
  const b = await openTestEngine({ dataDir: join(d.path, 'b'), settings: { maxDownloadSpeed: 512 * 1024 } })
  try {
    const src = randomFile(join(d.path, 'src', 'l.bin'), 2 * MiB)
    const s = await a.share([src])
    const t0 = Date.now()
    await b.add(s.magnetURI, { peers: [`127.0.0.1:${a.listeningPort}`] })
    await waitFor('complete', () => b.list()[0]?.progress === 1, 60000)
    const secs = (Date.now() - t0) / 1000
    // 2 MiB at 512 KiB/s cannot take less than about 4 s (unlimited it takes well under 1 s here).
    assert.ok(secs >= 3, `finished in ${secs} s despite the limit`)
  } finally { await a.close(); await b.close(); d.cleanup() }
})

test('a download limit switched on during a transfer slows it from then on; off again, it completes intact', async () => {
  const d = tempDir()
  // The seeder is held to 4 MiB/s so that the transfer is still running when the limit comes.
  const a = await openTestEngine({ dataDir: join(d.path, 'a'), settings: { maxUploadSpeed: 4 * MiB } })
  const b = await openTestEngine({ dataDir: join(d.path, 'b') })
  try {
    const src = randomFile(join(d.path, 'src', 'm.bin'), 24 * MiB)
    const s = await a.share([src])
    // b dials a: an outgoing connection, whose reads go straight to the wire until a limit holds them.
    await b.add(s.magnetURI, { peers: [`127.0.0.1:${a.listeningPort}`] })
    const have = () => b.list()[0]?.downloaded ?? 0
    await waitFor('the first 2 MiB', () => have() >= 2 * MiB, 60000, 20)
    await b.updateSettings({ maxDownloadSpeed: 256 * 1024 })
    await new Promise((r) => setTimeout(r, 1000)) // what was already under way lands
    const from = have()
    await new Promise((r) => setTimeout(r, 3000))
    const limited = (have() - from) / 3
    // 256 KiB/s; allow for bursts of the token bucket, far below the 4 MiB/s before.
    assert.ok(limited < 768 * 1024, `${Math.round(limited / 1024)} KiB/s with a 256 KiB/s limit`)
    assert.ok(have() < 24 * MiB, 'still running while limited')
    await b.updateSettings({ maxDownloadSpeed: 0 })
    await waitFor('complete', () => b.list()[0]?.progress === 1, 60000)
    assert.equal(await sha256File(join(d.path, 'b', 'downloads', 'm.bin')), await sha256File(src))
  } finally { await a.close(); await b.close(); d.cleanup() }
})
