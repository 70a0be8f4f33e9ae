// The IP blocklist setting: its file formats, clear errors for files that are not blocklists, and
// real peers on loopback aliases: a blocked seeder is never dialled and cannot dial in, an unblocked
// one serves the download.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { randomFile, sha256File, tempDir, waitFor } from '../helpers/fixtures.ts'
import { withEngines } from '../helpers/engines.ts'
import { probeHandshake } from '../helpers/raw-peer.ts'
import { parseBlocklist, loadBlocklist } from '../../main/engine/blocklist.ts'
import { EngineError } from '../../main/engine/errors.ts'

const MiB = 1024 * 1024

test('blocklist formats: P2P lines (colons in names), plain ranges, single addresses, CIDR, IPv6, comments', () => {
  const list = parseBlocklist([
    '# PeerGuardian text format',
    'Some Org: Inc:10.0.0.0-10.0.0.255',
    'Bad range:192.168.1.10 - 192.168.1.20',
    '172.16.5.5',
    '100.64.0.0/10',
    '  ',
    'v6 block:2001:db8::1-2001:db8::ff',
    'fd00::/8',
    '// another comment style'
  ].join('\r\n'), 'test list')
  for (const ip of ['10.0.0.0', '10.0.0.128', '10.0.0.255', '192.168.1.15', '172.16.5.5', '100.64.0.1', '100.127.255.255', '2001:db8::80', 'fd12::1', '::ffff:10.0.0.7']) {
    assert.ok(list.contains(ip), `${ip} is blocked`)
  }
  for (const ip of ['10.0.1.0', '192.168.1.9', '192.168.1.21', '172.16.5.6', '100.128.0.0', '2001:db8::100', 'fe80::1', '127.0.0.1']) {
    assert.ok(!list.contains(ip), `${ip} is not blocked`)
  }
  // Adjacent and overlapping ranges are merged.
  assert.equal(parseBlocklist('1.0.0.0-1.0.0.9\n1.0.0.10-1.0.0.20\n1.0.0.5-1.0.0.6', 'x').size, 1)
})

test('blocklist files that are not blocklists fail with a clear error, and leave the setting as it was', async () => {
  const d = tempDir()
  try {
    const garbage = join(d.path, 'garbage.txt')
    writeFileSync(garbage, '1.2.3.4-1.2.3.5\nhello world\n')
    await assert.rejects(loadBlocklist(garbage), (e: unknown) => e instanceof EngineError && e.code === 'BAD_ARGUMENT' && /line 2 \("hello world"\)/.test(e.message))
    const reversed = join(d.path, 'reversed.txt')
    writeFileSync(reversed, '1.2.3.9-1.2.3.1\n')
    await assert.rejects(loadBlocklist(reversed), /line 1/)
    const binary = join(d.path, 'list.bin')
    writeFileSync(binary, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 1, 2]))
    await assert.rejects(loadBlocklist(binary), (e: unknown) => e instanceof EngineError && e.code === 'BAD_ARGUMENT' && /binary file/.test(e.message))
    const empty = join(d.path, 'empty.txt')
    writeFileSync(empty, '# nothing\n\n')
    await assert.rejects(loadBlocklist(empty), /holds no IP ranges/)
    const badGz = join(d.path, 'bad.gz')
    writeFileSync(badGz, Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]))
    await assert.rejects(loadBlocklist(badGz), /could not be decompressed/)
    await assert.rejects(loadBlocklist(join(d.path, 'missing.p2p')), (e: unknown) => e instanceof EngineError && e.code === 'PATH_UNREADABLE' && /does not exist/.test(e.message))
    const gz = join(d.path, 'list.p2p.gz')
    writeFileSync(gz, gzipSync('Test:127.0.0.2-127.0.0.2\n'))
    assert.ok((await loadBlocklist(gz)).contains('127.0.0.2'))

    await withEngines(async ({ open }) => {
      const e = await open('e')
      await assert.rejects(e.updateSettings({ blocklistPath: garbage }), /line 2/)
      assert.equal(e.getSettings().blocklistPath, '', 'a refused file is not saved')
      assert.equal(e.stats().blocklistRanges, 0)
      const s = await e.updateSettings({ blocklistPath: gz })
      assert.equal(s.blocklistPath, gz)
      assert.equal(e.stats().blocklistRanges, 1)
    })
    // A blocklist that disappears between runs does not stop the engine; the stats say why it is off.
    const gone = join(d.path, 'gone.txt')
    await withEngines(async ({ open }) => {
      writeFileSync(gone, '127.0.0.9\n')
      const e = await open('e', { settings: { blocklistPath: gone } })
      assert.equal(e.stats().blocklistRanges, 1)
    })
    await withEngines(async ({ open }) => {
      const e = await open('e', { settings: { blocklistPath: join(d.path, 'never-there.txt') } })
      assert.match(e.stats().blocklistError ?? '', /never-there\.txt does not exist/)
      assert.equal(e.stats().blocklistRanges, 0)
    })
  } finally { d.cleanup() }
})

test('a blocked seeder (127.0.0.2) is never connected, either way; an unblocked one serves the download', async () => {
  await withEngines(async ({ dir, open }) => {
    const listPath = join(dir, 'blocklist.p2p')
    writeFileSync(listPath, '# test\nLoopback alias:127.0.0.2-127.0.0.2\n')
    const src = randomFile(join(dir, 'src', 'b.bin'), 3 * MiB)
    const blocked = await open('blocked', { settings: { pex: false } })
    const shared = await blocked.share([src])
    const good = await open('good', { settings: { pex: false } })
    await good.add({ kind: 'torrentBytes', base64: Buffer.from(blocked.exportTorrent(shared.infoHash).bytes).toString('base64') }, { savePath: join(dir, 'src') })
    await waitFor('the second seeder to check its copy', () => good.list()[0]?.state === 'seeding', 60000)

    const d = await open('d', { settings: { pex: false, blocklistPath: listPath } })
    assert.equal(d.stats().blocklistRanges, 1)
    await d.add(shared.magnetURI, { peers: [`127.0.0.2:${blocked.listeningPort}`, `127.0.0.1:${good.listeningPort}`] })
    let sawBlocked = false
    await waitFor('the download from the unblocked seeder', () => {
      if (d.peers().some((p) => p.address === '127.0.0.2') || blocked.peers().length > 0) sawBlocked = true
      return d.list()[0]?.progress === 1
    }, 120000)
    assert.equal(await sha256File(join(dir, 'd', 'downloads', 'b.bin')), await sha256File(src))
    assert.equal(sawBlocked, false, 'no wire to the blocked seeder at any point')
    assert.equal(blocked.list()[0]!.uploaded, 0, 'the blocked seeder sent nothing')
    assert.ok(d.peers().some((p) => p.address === '127.0.0.1') || good.list()[0]!.uploaded > 0)

    // Dialling in from a blocked address: closed without a byte. From another alias: a handshake back.
    assert.deepEqual(await probeHandshake(d.listeningPort, shared.infoHash, '127.0.0.2'), { received: 0, closedByPeer: true })
    assert.ok((await probeHandshake(d.listeningPort, shared.infoHash, '127.0.0.3')).received >= 68)
    // Clearing the setting lets the address in at once.
    await d.updateSettings({ blocklistPath: '' })
    assert.equal(d.stats().blocklistRanges, 0)
    assert.ok((await probeHandshake(d.listeningPort, shared.infoHash, '127.0.0.2')).received >= 68)
  })
})
