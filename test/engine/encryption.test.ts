// Encryption settings against real peers: a plaintext-only webtorrent (secure: 0) and an encrypting
// Shoal engine. Every connection to the plaintext peer goes through a counting relay, so the test
// sees what was exchanged in each direction. With 'require' not one byte of the protocol passes
// either way (stock webtorrent accepted a plaintext handshake at secure level 2); with 'prefer'
// both peers serve.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import WebTorrent, { type WtTorrent } from 'webtorrent'
import Wire from 'bittorrent-protocol'
import { randomFile, sha256File, waitFor, watchDetaches } from '../helpers/fixtures.ts'
import { withEngines, type EngineSet } from '../helpers/engines.ts'
import { countingProxy } from '../helpers/count-proxy.ts'
import { udpRelay, type UdpRelay } from '../helpers/udp-relay.ts'
import { buildShare } from '../../main/engine/share-builder.ts'
import { mseEncryptorClass } from '../../main/engine/mse-dh.ts'
import { handshake, openSocket } from '../helpers/raw-peer.ts'

const MiB = 1024 * 1024

async function plaintextSeeder (torrentFile: Uint8Array, dataDir: string): Promise<{ wt: WebTorrent; t: WtTorrent; port: number; close: () => Promise<void> }> {
  const wt = new WebTorrent({ dht: false, lsd: false, tracker: false, natUpnp: false, natPmp: false, utPex: false, utp: false, torrentPort: 0, secure: 0 })
  await new Promise<void>((r) => wt.once('listening', () => r()))
  const t = wt.add(torrentFile, { path: dataDir })
  await new Promise<void>((r) => t.once('ready', () => r()))
  await waitFor('the plaintext seeder to verify its data', () => t.progress === 1, 60000)
  return { wt, t, port: wt.torrentPort, close: () => new Promise((r) => wt.destroy(() => r())) }
}

async function setup (ctx: EngineSet, size: number) {
  const src = randomFile(join(ctx.dir, 'src', 'enc.bin'), size)
  const built = await buildShare([src])
  const plain = await plaintextSeeder(built.torrentFile, join(ctx.dir, 'src'))
  const torrent = { kind: 'torrentBytes' as const, base64: Buffer.from(built.torrentFile).toString('base64') }
  return { src, infoHash: built.infoHash, plain, torrent }
}

test("encryption 'require': a plaintext-only peer exchanges nothing in either direction; an encrypting peer serves", async () => {
  await withEngines(async (ctx) => {
    const { src, infoHash, plain, torrent } = await setup(ctx, 2 * MiB)
    const toPlain = await countingProxy(plain.port)
    try {
      const d = await ctx.open('d', { settings: { encryption: 'require', pex: false, maxDownloadSpeed: MiB } })
      const toD = await countingProxy(d.listeningPort)
      try {
        await d.add(torrent, { peers: [`127.0.0.1:${toPlain.port}`] })
        plain.t.addPeer(`127.0.0.1:${toD.port}`) // and the plaintext peer dials in
        await waitFor('Shoal dialled the plaintext peer and the connection ended', () => toPlain.connections.some((c) => c.closed && c.toTarget > 0), 60000)
        await waitFor('the plaintext peer dialled in and the connection ended', () => toD.connections.some((c) => c.closed && c.toTarget > 0), 60000)
        // Outgoing: Shoal opened with the encryption handshake; the plaintext-only peer hung up without a byte.
        assert.ok(toPlain.connections.every((c) => c.fromTarget === 0), `plaintext peer answered: ${JSON.stringify(toPlain.connections)}`)
        // Incoming: the peer sent its plaintext handshake; Shoal hung up without a byte (no handshake, no bitfield).
        assert.ok(toD.connections.every((c) => c.fromTarget === 0), `Shoal answered a plaintext peer: ${JSON.stringify(toD.connections)}`)
        assert.equal(d.list()[0]!.progress, 0)

        // An encrypting peer (Shoal with 'prefer') serves the same download, over RC4.
        const enc = await ctx.open('enc', { settings: { pex: false } })
        await enc.share([src])
        d.addPeer(infoHash, `127.0.0.1:${enc.listeningPort}`)
        const peer = await waitFor('an encrypted peer', () => d.peers(infoHash).find((p) => p.address === '127.0.0.1' && p.port === enc.listeningPort), 60000)
        assert.equal(peer.flags.encrypted, true)
        await waitFor('complete', () => d.list()[0]?.progress === 1, 120000)
        assert.equal(await sha256File(join(ctx.dir, 'd', 'downloads', 'enc.bin')), await sha256File(src))
        assert.ok(toPlain.connections.every((c) => c.fromTarget === 0) && toD.connections.every((c) => c.fromTarget === 0), 'still nothing exchanged with the plaintext peer')
      } finally { await toD.close() }
    } finally { await toPlain.close(); await plain.close() }
  })
})

test("encryption 'prefer': a plaintext-only peer serves, and so does a peer that requires encryption", async () => {
  await withEngines(async (ctx) => {
    const { src, infoHash, plain, torrent } = await setup(ctx, 2 * MiB)
    const toPlain = await countingProxy(plain.port)
    try {
      const a = await ctx.open('a', { settings: { encryption: 'prefer', pex: false, maxDownloadSpeed: MiB } })
      await a.add(torrent, { peers: [`127.0.0.1:${toPlain.port}`] })
      const p = await waitFor('a plaintext peer', () => a.peers(infoHash).find((x) => x.port === toPlain.port), 60000)
      assert.equal(p.flags.encrypted, false)
      await waitFor('complete from the plaintext peer', () => a.list()[0]?.progress === 1, 120000)
      assert.equal(await sha256File(join(ctx.dir, 'a', 'downloads', 'enc.bin')), await sha256File(src))
      assert.ok(toPlain.connections.some((c) => c.fromTarget > 2 * MiB), 'the data came through the relay')

      const strict = await ctx.open('strict', { settings: { encryption: 'require', pex: false } })
      await strict.share([src])
      const b = await ctx.open('b', { settings: { encryption: 'prefer', pex: false, maxDownloadSpeed: MiB } })
      await b.add(torrent, { peers: [`127.0.0.1:${strict.listeningPort}`] })
      const q = await waitFor('an encrypted peer', () => b.peers(infoHash).find((x) => x.port === strict.listeningPort), 60000)
      assert.equal(q.flags.encrypted, true)
      await waitFor('complete from the encrypting peer', () => b.list()[0]?.progress === 1, 120000)
      assert.equal(await sha256File(join(ctx.dir, 'b', 'downloads', 'enc.bin')), await sha256File(src))
    } finally { await toPlain.close(); await plain.close() }
  })
})

// bittorrent-protocol uses OpenSSL's RC4 where Node has it (the CLI and app start Node with
// --openssl-legacy-provider) and its own JS RC4 otherwise: both kinds of ciphertext must be freed.
const opensslRC4 = Wire.nativeRC4
const FREES_CIPHERTEXT = 'an RC4 upload frees each block\'s ciphertext as soon as its socket has written it, and the download is intact'

/**
 * An 8 MiB RC4 upload from one engine to another `over` a transport: every block's ciphertext is
 * freed once the transport has taken it (detached buffers are counted where they are freed), and
 * the download is intact. Over uTP the getter is given a relay that carries UDP only, so its TCP
 * dial is refused and it goes to uTP.
 */
async function rc4UploadFreesCiphertext (over: 'tcp' | 'utp'): Promise<void> {
  const BLOCK = 16384
  let freedBlocks = 0
  const stopWatching = watchDetaches((buffer) => { if (buffer.byteLength === BLOCK) freedBlocks++ })
  let relay: UdpRelay | undefined
  try {
    await withEngines(async (ctx) => {
      const size = 8 * MiB
      const src = randomFile(join(ctx.dir, 'src', 'rc4.bin'), size)
      const seeder = await ctx.open('s', { settings: { encryption: 'require', pex: false } })
      // Pieces of 256 KiB: the downloader's piece buffers are never block-sized, so only ciphertext is counted.
      const shared = await seeder.share([src], { pieceLength: 256 * 1024 })
      if (over === 'utp') relay = await udpRelay(seeder.listeningPort, () => false)
      const port = relay?.port ?? seeder.listeningPort
      const getter = await ctx.open('g', { settings: { encryption: 'require', pex: false } })
      await getter.add(shared.magnetURI, { peers: [`127.0.0.1:${port}`] })
      const peer = await waitFor(`the encrypted ${over} connection`, () => getter.peers(shared.infoHash).find((p) => p.port === port), 60000)
      assert.equal(peer.transport, over)
      assert.equal(peer.flags.encrypted, true)
      await waitFor('complete', () => getter.list()[0]?.progress === 1, 120000)
      assert.equal(await sha256File(join(ctx.dir, 'g', 'downloads', 'rc4.bin')), await sha256File(src), 'no block was freed before it was sent')
      if (relay) assert.ok(relay.sent('toConnector') > size / 1500, `${relay.sent('toConnector')} uTP data packets came through the relay`)
      assert.ok(freedBlocks >= size / BLOCK, `ciphertext blocks freed once written: ${freedBlocks} of ${size / BLOCK} blocks sent`)
    })
  } finally {
    relay?.close()
    stopWatching()
  }
}

test(`${FREES_CIPHERTEXT} (${opensslRC4 ? 'OpenSSL' : 'JS'} RC4)`, async () => {
  // Left to the garbage collector, ciphertext that outlived two scavenges waited for a full
  // collection, which V8 starts only after ~64 MiB of such memory: an RC4 seeder peaked 115-134 MiB
  // instead of 98 (README, Performance).
  await rc4UploadFreesCiphertext('tcp')
})

test('an RC4 upload over uTP frees each block\'s ciphertext once libutp has copied it, and the download is intact', async () => {
  // utp-native calls a write back only when libutp has copied every byte into its own packets. Left
  // to the collector, a uTP seeder's ciphertext piled up as a TCP seeder's did: 129-130 MiB peak
  // serving a uTP-only qBittorrent (README, Performance).
  await rc4UploadFreesCiphertext('utp')
})

test(`${FREES_CIPHERTEXT} (${opensslRC4 ? 'JS' : 'OpenSSL'} RC4, in a child process)`, { skip: process.env.SHOAL_RC4_CHILD === '1' }, () => {
  const env: NodeJS.ProcessEnv = { ...process.env, SHOAL_RC4_CHILD: '1' }
  delete env.NODE_OPTIONS // the child's provider is chosen by its own flags alone
  delete env.NODE_TEST_CONTEXT // a test runner of its own, not a subtest of this one
  const r = spawnSync(process.execPath, [
    ...(opensslRC4 ? [] : ['--openssl-legacy-provider']),
    '--test', '--test-reporter=tap', `--test-name-pattern=^${FREES_CIPHERTEXT.replace(/[()']/g, '.')}`, fileURLToPath(import.meta.url)
  ], { env, encoding: 'utf8', timeout: 300000 })
  const out = `${r.stdout}${r.stderr}`
  assert.match(out, new RegExp(`^ok 1 - .*\\(${opensslRC4 ? 'JS' : 'OpenSSL'} RC4\\)$`, 'm'), out)
  assert.match(out, /^# pass 1$/m, out)
  assert.equal(r.status, 0, out)
})

/** bittorrent-protocol's MSE state (the package exports only the Wire): used here as a bare initiator. */
interface MseInitiator {
  S: Uint8Array
  generateStepA1: () => Uint8Array
  handleStepA2: (step2: Uint8Array) => void
  encryptCipher: (b: Uint8Array) => Uint8Array
  decryptCipher: (b: Uint8Array) => Uint8Array
}
function mseInitiator (infoHash: string): MseInitiator {
  const Ctor = mseEncryptorClass() as (new (skeyHex: string) => MseInitiator) | null
  assert.ok(Ctor, 'bittorrent-protocol has no MSE')
  return new Ctor(infoHash)
}

// libtorrent (qBittorrent) sends its BitTorrent handshake as step 3's IA, in a write of its own
// after the rest of step 3, and Nagle holds that write until the rest is acknowledged. A responder
// that waited for the IA before its step 4 left that acknowledgement to the delayed-ACK timer:
// 40 ms of every encrypted connection from libtorrent. Here the IA is simply not sent until step 4
// has come, so a responder that waits for it never answers.
test('an encrypting initiator that sends its IA only after step 4 gets step 4, then the handshake', async () => {
  await withEngines(async (ctx) => {
    const src = randomFile(join(ctx.dir, 'src', 'ia.bin'), MiB)
    const seeder = await ctx.open('seeder', { settings: { pex: false } })
    const { infoHash } = await seeder.share([src])
    const mse = mseInitiator(infoHash)
    const socket = await openSocket(seeder.listeningPort)
    let got = Buffer.alloc(0)
    socket.on('data', (d: Buffer) => { got = Buffer.concat([got, d]) })
    try {
      socket.write(mse.generateStepA1())
      await waitFor('step 2 (Yb)', () => got.length >= 96, 10000, 5)
      mse.handleStepA2(got.subarray(0, 96))
      const sha1 = (...parts: Array<string | Uint8Array>): Buffer => parts.reduce((h, p) => h.update(p), createHash('sha1')).digest()
      const xorHash = sha1('req2', Buffer.from(infoHash, 'hex')).map((b, i) => b ^ sha1('req3', mse.S)[i]!)
      const header = Buffer.alloc(16) // VC (8 zero bytes), crypto_provide (RC4), len(PadC) 0, len(IA) 68
      header.writeUInt32BE(0x02, 8)
      header.writeUInt16BE(68, 14)
      socket.write(Buffer.concat([sha1('req1', mse.S), xorHash, mse.encryptCipher(header)]))
      // step 4 starts with VC encrypted by the responder's stream: the initiator finds it past PadB
      const vc = Buffer.from(mse.decryptCipher(new Uint8Array(8)))
      const at = await waitFor('step 4, before the IA is sent', () => { const i = got.indexOf(vc, 96); return i >= 0 ? i : undefined }, 5000, 5)
      // then crypto_select and len(PadD), PadD, and after it the responder's own (encrypted) handshake
      await waitFor('crypto_select and len(PadD)', () => got.length >= at + 14, 5000, 5)
      const select = Buffer.from(mse.decryptCipher(got.subarray(at + 8, at + 14)))
      assert.equal(select.readUInt32BE(0), 0x02, 'the responder chose RC4')
      const padD = select.readUInt16BE(4)
      mse.decryptCipher(new Uint8Array(padD)) // keep the stream in step; PadD's content is noise
      socket.write(mse.encryptCipher(handshake(infoHash)))
      const start = at + 14 + padD
      await waitFor('the responder\'s handshake', () => got.length >= start + 68, 5000, 5)
      const theirs = Buffer.from(mse.decryptCipher(got.subarray(start, start + 68)))
      assert.equal(theirs.subarray(1, 20).toString(), 'BitTorrent protocol')
      assert.equal(theirs.subarray(28, 48).toString('hex'), infoHash)
    } finally {
      socket.destroy()
    }
  })
})
