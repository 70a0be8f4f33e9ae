// How the engine dials a host that turns TCP away. libtorrent accepts a TCP connection and closes it
// before the handshake both when its TCP is off (the engine then goes to uTP) and for a torrent it
// has not started yet; with its uTP off, it also leaves the uTP dial that follows unanswered.
// Stock webtorrent waited 5 s on that dial and 1 s more to redial: a just-started qBittorrent sent
// its first byte 6.4 s after `shoal get` started, in 4 of 6 runs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createSocket } from 'node:dgram'
import { randomFile, sha256File, waitFor } from '../helpers/fixtures.ts'
import { withEngines } from '../helpers/engines.ts'
import { countingProxy } from '../helpers/count-proxy.ts'
import { ST_SYN, utpType } from '../helpers/udp-relay.ts'
import { buildShare } from '../../main/engine/share-builder.ts'

/** A UDP socket on `port` that answers nothing (a host with uTP off) and counts the uTP SYNs it gets. */
async function silentUtp (port: number): Promise<{ syns: () => number; close: () => void }> {
  let syns = 0
  const udp = createSocket('udp4')
  udp.on('message', (msg) => { if (utpType(msg) === ST_SYN) syns++ })
  await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(port, '127.0.0.1', () => resolve()) })
  return { syns: () => syns, close: () => udp.close() }
}

// libutp resends an unanswered SYN after 3 s: one SYN means the uTP dial was given up before that.
test('a host that turned TCP away and leaves uTP unanswered is dialled over TCP again before libutp resends its SYN', async () => {
  await withEngines(async (ctx) => {
    const src = randomFile(join(ctx.dir, 'src', 'f.bin'), 4 * 1024 * 1024)
    const seeder = await ctx.open('seeder', { settings: { pex: false } })
    const shared = await seeder.share([src])
    // TCP that turns the first two connections away and relays the rest; UDP on the same port, silent
    const host = await countingProxy(seeder.listeningPort, '127.0.0.1', { turnAway: 2 })
    let utp: Awaited<ReturnType<typeof silentUtp>> | null = null
    try {
      utp = await silentUtp(host.port)
      const built = await buildShare([src])
      const getter = await ctx.open('getter', { settings: { pex: false } })
      await getter.add({ kind: 'torrentBytes', base64: Buffer.from(built.torrentFile).toString('base64') }, { peers: [`127.0.0.1:${host.port}`] })
      await waitFor('the download through the host that turned TCP away twice', () => getter.list()[0]?.progress === 1, 60000)
      assert.equal(await sha256File(join(ctx.dir, 'getter', 'downloads', 'f.bin')), await sha256File(src))
      assert.equal(getter.list()[0]!.infoHash, shared.infoHash)
      // encrypted, then plaintext, turned away; uTP unanswered; then TCP again, relayed
      assert.ok(host.connections.length >= 3, `${host.connections.length} TCP connections`)
      assert.equal(utp.syns(), 1, `the uTP dial sent ${utp.syns()} SYNs before TCP was tried again`)
    } finally {
      utp?.close()
      await host.close()
    }
  })
})
