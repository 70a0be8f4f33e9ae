// Local Service Discovery (BEP 14) between two hosts on one link: two Shoal CLIs, each in its own
// network namespace, joined by a veth pair. DHT off, no tracker, no peer given: the downloader
// finds the seeder only through the LSD multicast announce (239.192.152.143:6771).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { CLI, assertBuilt } from '../helpers/cli.ts'
import { randomFile, sha256File, tempDir, waitFor } from '../helpers/fixtures.ts'
import { VethPair, labUnavailable } from './lab.ts'

const MiB = 1024 * 1024
const LSD_GROUP = '239.192.152.143'

test('LSD: a downloader in another namespace finds the seeder by multicast alone', async (t) => {
  const why = labUnavailable()
  if (why) { t.skip(why); return }
  assertBuilt()
  const lab = new VethPair('lsd')
  const d = tempDir('shoal-netns-lsd-')
  try {
    lab.up()
    const src = randomFile(join(d.path, 'src', 'lsd.bin'), 3 * MiB)
    const seed = lab.node(lab.a, [CLI, 'seed', src, '--data', join(d.path, 'seed-data'), '--port', '16881', '--no-dht'])
    const magnet = await seed.line(/^magnet:/, 30000)
    assert.doesNotMatch(magnet, /[&?]tr=/, 'the torrent must carry no tracker')
    // The seeder's LSD socket has joined the group: a downloader's one announce cannot be missed.
    await waitFor('the seeder to join the LSD multicast group', () => lab.ip(lab.a, 'maddr', 'show', 'dev', 'v0').includes(LSD_GROUP), 10000)

    // Control: the same downloader with LSD off finds nobody, so nothing but LSD can connect them.
    const blind = lab.node(lab.b, [CLI, 'get', magnet, '--out', join(d.path, 'blind-out'), '--data', join(d.path, 'blind-data'), '--json', '--timeout', '3', '--no-dht', '--no-lsd', '--port', '16882'])
    assert.equal(await blind.exited, 1, `without LSD the download must not complete: ${blind.lines.slice(-1).join('')} ${blind.stderr()}`)
    assert.match(blind.lines.at(-1) ?? '', /"type":"error".*0 peers/)

    const get = lab.node(lab.b, [CLI, 'get', magnet, '--out', join(d.path, 'out'), '--data', join(d.path, 'get-data'), '--json', '--timeout', '60', '--no-dht', '--port', '16883'])
    const code = await get.exited
    assert.equal(code, 0, `download by LSD failed: ${get.lines.slice(-2).join('\n')} ${get.stderr()}`)
    const done = JSON.parse(get.lines.at(-1) ?? '{}') as { type?: string; path?: string }
    assert.equal(done.type, 'done')
    assert.equal(done.path, join(d.path, 'out', 'lsd.bin'))
    assert.equal(await sha256File(join(d.path, 'out', 'lsd.bin')), await sha256File(src))
  } finally {
    await lab.down()
    d.cleanup()
  }
})
