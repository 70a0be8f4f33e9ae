// WebRTC peers over a WebSocket tracker (node-datachannel in Node). On loopback alone ICE finds no
// usable host candidate, so each engine runs in its own network namespace on a veth pair and the
// ws:// tracker (bittorrent-tracker, ws only) listens in the seeder's namespace. DHT, LSD and PEX
// discovery play no part (DHT and LSD are off, no peer is given, and a ws tracker hands out no
// ip:port peers): the only way the two can meet is a WebRTC data channel.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { randomFile, sha256File, tempDir } from '../helpers/fixtures.ts'
import { A_IP, VethPair, labUnavailable } from './lab.ts'

const MiB = 1024 * 1024
const RUNNER = join(import.meta.dirname, 'engine-runner.ts')
const TRACKER = join(import.meta.dirname, 'tracker-runner.ts')

interface Peer { id: string; address: string; transport: string; downloaded: number }

test('WebRTC: engines in two namespaces meet through a ws:// tracker and transfer over a data channel', async (t) => {
  const why = labUnavailable()
  if (why) { t.skip(why); return }
  const lab = new VethPair('rtc')
  const d = tempDir('shoal-netns-rtc-')
  try {
    lab.up()
    const src = randomFile(join(d.path, 'src', 'rtc.bin'), 3 * MiB)
    const tracker = lab.node(lab.a, [TRACKER, A_IP])
    const url = (JSON.parse(await tracker.line(/"listening"/, 15000)) as { url: string }).url
    assert.match(url, /^ws:\/\/198\.18\.0\.1:\d+$/)

    const seed = lab.node(lab.a, [RUNNER, 'seed', src, join(d.path, 'seed-data'), url])
    const shared = JSON.parse(await seed.line(/"shared"/, 30000)) as { magnetURI: string }
    assert.ok(shared.magnetURI.includes(`tr=${encodeURIComponent(url)}`), shared.magnetURI)
    // The seeder is in the tracker's swarm before the downloader asks for it.
    await tracker.line(/"start"/, 20000)

    const get = lab.node(lab.b, [RUNNER, 'get', shared.magnetURI, join(d.path, 'get-data')])
    const done = JSON.parse(await get.line(/"done"/, 75000)) as { path: string; transports: string[]; peers: Peer[] }
    assert.deepEqual(done.transports, ['webrtc'], `every peer the downloader had was WebRTC: ${JSON.stringify(done.peers)}`)
    const rtc = done.peers.filter((p) => p.transport === 'webrtc')
    assert.ok(rtc.length >= 1, `the seeder is in the peer list as a WebRTC peer: ${JSON.stringify(done.peers)}`)
    assert.equal(rtc[0]!.address, A_IP)
    assert.equal(done.path, join(d.path, 'get-data', 'downloads', 'rtc.bin'))
    assert.equal(await sha256File(done.path), await sha256File(src))
  } finally {
    await lab.down()
    d.cleanup()
  }
})
