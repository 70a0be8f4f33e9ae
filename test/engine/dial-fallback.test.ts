// How the engine dials a host that turns TCP away. libtorrent accepts a TCP connection and closes it
// before the handshake both when its TCP is off (the engine then goes to uTP) and for a torrent it
// has not started yet; with its uTP off, it also leaves the uTP dial that follows unanswered.
// Stock webtorrent waited 5 s on that dial and 1 s more to redial: a just-started qBittorrent sent
// its first byte 6.4 s after `shoal get` started, in 4 of 6 runs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { randomFile, sha256File, waitFor } from '../helpers/fixtures.ts'
import { withEngines } from '../helpers/engines.ts'
import { ST_SYN, utpType } from '../helpers/udp-relay.ts'
import { buildShare } from '../../main/engine/share-builder.ts'

interface TurningAwayHost {
  port: number
  /** TCP connections taken, the turned-away ones included. */
  tcp: () => number
  /** uTP SYNs that reached its (silent) UDP socket. */
  syns: () => number
  close: () => Promise<void>
}

/**
 * On one port: TCP that closes the first `turnAway` connections once they have sent something (as
 * libtorrent closes a handshake for an unknown torrent) and relays the rest to `targetPort`; UDP
 * bound and silent, as a host with uTP off.
 */
async function turningAwayHost (targetPort: number, turnAway: number): Promise<TurningAwayHost> {
  let taken = 0
  let syns = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((inc) => {
    sockets.add(inc)
    inc.on('close', () => sockets.delete(inc))
    inc.on('error', () => {})
    if (++taken <= turnAway) { inc.once('data', () => inc.destroy()); return }
    const out = connect({ port: targetPort, host: '127.0.0.1' })
    sockets.add(out)
    out.on('close', () => { sockets.delete(out); inc.destroy() })
    out.on('error', () => {})
    inc.on('close', () => out.destroy())
    inc.pipe(out).pipe(inc)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as { port: number }).port
  const udp: UdpSocket = createSocket('udp4')
  udp.on('message', (msg) => { if (utpType(msg) === ST_SYN) syns++ })
  await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(port, '127.0.0.1', () => resolve()) })
  return {
    port,
    tcp: () => taken,
    syns: () => syns,
    close: async () => {
      for (const s of sockets) s.destroy()
      udp.close()
      await new Promise<void>((r) => server.close(() => r()))
    }
  }
}

// libutp resends an unanswered SYN after 3 s: one SYN means the uTP dial was given up before that.
test('a host that turned TCP away and leaves uTP unanswered is dialled over TCP again before libutp resends its SYN', async () => {
  await withEngines(async (ctx) => {
    const src = randomFile(join(ctx.dir, 'src', 'f.bin'), 4 * 1024 * 1024)
    const seeder = await ctx.open('seeder', { settings: { pex: false } })
    const shared = await seeder.share([src])
    const host = await turningAwayHost(seeder.listeningPort, 2)
    try {
      const built = await buildShare([src])
      const getter = await ctx.open('getter', { settings: { pex: false } })
      await getter.add({ kind: 'torrentBytes', base64: Buffer.from(built.torrentFile).toString('base64') }, { peers: [`127.0.0.1:${host.port}`] })
      await waitFor('the download through the host that turned TCP away twice', () => getter.list()[0]?.progress === 1, 60000)
      assert.equal(await sha256File(join(ctx.dir, 'getter', 'downloads', 'f.bin')), await sha256File(src))
      assert.equal(getter.list()[0]!.infoHash, shared.infoHash)
      // encrypted, then plaintext, turned away; uTP unanswered; then TCP again, relayed
      assert.ok(host.tcp() >= 3, `${host.tcp()} TCP connections`)
      assert.equal(host.syns(), 1, `the uTP dial sent ${host.syns()} SYNs before TCP was tried again`)
    } finally {
      await host.close()
    }
  })
})
