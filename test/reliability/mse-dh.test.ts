// The engine's fast MSE Diffie-Hellman (main/engine/mse-dh.ts): the same secrets as Node's
// crypto.DiffieHellman on the MSE prime, invalid public keys refused, installed by the engine, and
// an encrypted transfer with a stock webtorrent peer (Node's DH on its side) completes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createDiffieHellman } from 'node:crypto'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import Wire from 'bittorrent-protocol'
import WebTorrent from 'webtorrent'
import { MseDiffieHellman, MSE_PRIME } from '../../main/engine/mse-dh.ts'
import '../../main/engine/engine.ts'
import { tempDir, randomFile, waitFor, sha256File } from '../helpers/fixtures.ts'
import { withEngines } from '../helpers/engines.ts'
import { writeFigures } from './figures.ts'

const PRIME_HEX = MSE_PRIME.toString(16)

test('MSE DH: the same shared secret as Node\'s DiffieHellman, both ways; bad public keys refused', () => {
  for (let i = 0; i < 20; i++) {
    const fast = new MseDiffieHellman()
    const node = createDiffieHellman(PRIME_HEX, 'hex', 2)
    const yFast = fast.generateKeys()
    const yNode = node.generateKeys()
    assert.equal(yFast.length, 96)
    const s1 = fast.computeSecret(yNode)
    const s2 = node.computeSecret(yFast)
    assert.equal(s1.length, 96)
    assert.ok(s1.equals(s2), 'secrets differ')
  }
  const dh = new MseDiffieHellman()
  dh.generateKeys()
  const p = Buffer.from(PRIME_HEX, 'hex')
  const pMinus1 = Buffer.from(p); pMinus1[95] = pMinus1[95]! - 1
  for (const bad of [Buffer.alloc(96), Buffer.from([1]), pMinus1, p, Buffer.alloc(96, 0xff), Buffer.alloc(0)]) {
    assert.throws(() => dh.computeSecret(bad), /invalid Diffie-Hellman public key/)
  }
})

test('MSE DH: installed by the engine on every new wire, and much cheaper than a per-connection createDiffieHellman', () => {
  const w = new Wire('tcpProbe', 1) as unknown as { _encryptor: { dh: unknown }; destroy(): void }
  assert.ok(w._encryptor.dh instanceof MseDiffieHellman)
  w.destroy()
  const N = 20
  let t0 = performance.now()
  for (let i = 0; i < N; i++) { const a = new MseDiffieHellman(); const b = new MseDiffieHellman(); const ka = a.generateKeys(); a.computeSecret(b.generateKeys()); b.computeSecret(ka) }
  const fastMs = (performance.now() - t0) / N
  t0 = performance.now()
  for (let i = 0; i < N; i++) { const a = createDiffieHellman(PRIME_HEX, 'hex', 2); const b = createDiffieHellman(PRIME_HEX, 'hex', 2); const ka = a.generateKeys(); a.computeSecret(b.generateKeys()); b.computeSecret(ka) }
  const nodeMs = (performance.now() - t0) / N
  writeFigures('mse-dh', {
    title: 'Protocol encryption handshake (MSE Diffie-Hellman), main-thread CPU per connection',
    fastMs,
    nodeMs,
    reportLines: [`both sides of one handshake: ${fastMs.toFixed(2)} ms with the engine's BigInt DH, ${nodeMs.toFixed(1)} ms with crypto.createDiffieHellman (prime check on every construction)`]
  })
  // Not a timing assertion: recorded for the report.
})

test('MSE DH: an encrypted-only transfer between the engine and a stock webtorrent peer completes, in both directions', async () => {
  await withEngines(async ({ open, dir }) => {
    const engine = await open('engine', { settings: { encryption: 'require', pex: false } })
    const file = randomFile(join(dir, 'src', 'enc.bin'), 300_000)
    const shared = await engine.share([file])
    // The engine seeds; stock webtorrent (secure: 2 = encrypted only, Node's DH) downloads.
    const peer = new WebTorrent({ dht: false, lsd: false, tracker: false, utPex: false, natUpnp: false, natPmp: false, utp: false, secure: 2 })
    try {
      const exported = engine.exportTorrent(shared.infoHash)
      const t = peer.add(Buffer.from(exported.bytes), { path: join(dir, 'peer'), announce: [] })
      t.on('ready', () => t.addPeer(`127.0.0.1:${engine.listeningPort}`))
      await waitFor('the stock peer to finish over an encrypted wire', () => t.done, 60_000)
      assert.equal(await sha256File(join(dir, 'peer', 'enc.bin')), await sha256File(file))
      // The other way: a second engine downloads from the stock peer, which now seeds.
      const d = tempDir('shoal-mse-')
      try {
        const down = await open('down', { settings: { encryption: 'require', pex: false, downloadPath: d.path } })
        await down.add({ kind: 'torrentBytes', base64: Buffer.from(exported.bytes).toString('base64') }, { peers: [`127.0.0.1:${(peer.address() as { port: number }).port}`] })
        await waitFor('the engine to finish from the stock peer', () => down.list()[0]?.state === 'seeding', 60_000)
        assert.equal(await sha256File(join(d.path, 'enc.bin')), await sha256File(file))
      } finally { d.cleanup() }
    } finally {
      await new Promise<void>((r) => peer.destroy(() => r()))
    }
  })
})
