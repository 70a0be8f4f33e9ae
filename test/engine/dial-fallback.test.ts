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
import type { Engine } from '../../main/engine/engine.ts'
import { countingProxy, type CountingProxy } from '../helpers/count-proxy.ts'
import { ST_FIN, ST_SYN, utpType, withUtpType } from '../helpers/udp-relay.ts'
import { buildShare } from '../../main/engine/share-builder.ts'

/** A UDP socket on `port` that answers nothing (a host with uTP off) and records when uTP SYNs came. */
async function silentUtp (port: number): Promise<{ syns: () => number; times: number[]; close: () => void }> {
  const times: number[] = []
  const udp = createSocket('udp4')
  udp.on('message', (msg) => { if (utpType(msg) === ST_SYN) times.push(performance.now()) })
  await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(port, '127.0.0.1', () => resolve()) })
  return { syns: () => times.length, times, close: () => udp.close() }
}

/** A UDP socket on `port` that answers every uTP SYN with a FIN, as libtorrent turns a dial away; counts them. */
async function refusingUtp (port: number): Promise<{ refused: () => number; times: number[]; close: () => void }> {
  let refused = 0
  const times: number[] = []
  const udp = createSocket('udp4')
  udp.on('message', (msg, from) => {
    if (utpType(msg) !== ST_SYN) return
    refused++
    times.push(performance.now())
    // an answer carries the ID the SYN did (the dialler's receive ID) and acks the SYN's number
    const fin = withUtpType(msg.subarray(0, 20), ST_FIN)
    fin.writeUInt16BE(Math.floor(Math.random() * 65536), 16)
    fin.writeUInt16BE(msg.readUInt16BE(16), 18)
    udp.send(fin, from.port, from.address)
  })
  await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(port, '127.0.0.1', () => resolve()) })
  return { refused: () => refused, times, close: () => udp.close() }
}

/** What a test sees of a getter dialling a seeder that sits behind `host`. */
interface BehindHost<U> {
  /** TCP to the seeder through a proxy that turned the first `turnAway` connections away. */
  host: CountingProxy
  /** What answers uTP on the host's port. */
  udp: U
  getter: Engine
  /** Waits for the download, then checks it byte for byte. */
  downloaded: (what: string) => Promise<void>
}

/** A seeder of `size` bytes behind one address (`udpAt` answers UDP there), and a getter given only that address. */
async function dialBehindHost<U extends { close: () => void }> (size: number, turnAway: number, udpAt: (port: number) => Promise<U>, fn: (run: BehindHost<U>) => Promise<void>): Promise<void> {
  await withEngines(async (ctx) => {
    const src = randomFile(join(ctx.dir, 'src', 'f.bin'), size)
    const seeder = await ctx.open('seeder', { settings: { pex: false } })
    const shared = await seeder.share([src])
    const host = await countingProxy(seeder.listeningPort, '127.0.0.1', { turnAway })
    let udp: U | null = null
    try {
      udp = await udpAt(host.port)
      const built = await buildShare([src])
      const getter = await ctx.open('getter', { settings: { pex: false } })
      await getter.add({ kind: 'torrentBytes', base64: Buffer.from(built.torrentFile).toString('base64') }, { peers: [`127.0.0.1:${host.port}`] })
      await fn({
        host,
        udp,
        getter,
        downloaded: async (what) => {
          await waitFor(what, () => getter.list()[0]?.progress === 1, 60000)
          assert.equal(await sha256File(join(ctx.dir, 'getter', 'downloads', 'f.bin')), await sha256File(src))
          assert.equal(getter.list()[0]!.infoHash, shared.infoHash)
        }
      })
    } finally {
      udp?.close()
      await host.close()
    }
  })
}

// libtorrent turns every dial away while a torrent is paused or still starting; a qBittorrent that
// had just reported seeding did so for 0.1-1 s more. One round here: TCP encrypted, TCP plaintext,
// uTP (refused), TCP encrypted, TCP plaintext; webtorrent then waited 1 s for the next round.
test('a host that turned a whole round of dials away is dialled again after a quarter of a second, not 1 s', async () => {
  const turnAway = 4
  await dialBehindHost(4 * 1024 * 1024, turnAway, refusingUtp, async ({ host, udp: utp, downloaded }) => {
    await downloaded('the download through the host that turned a round away')
    assert.ok(host.connections.length > turnAway, `${host.connections.length} TCP connections`)
    assert.ok(utp.refused() >= 1, 'the round had no uTP dial')
    const gap = host.connections[turnAway]!.openedAt - host.connections[turnAway - 1]!.openedAt
    console.log(`next round ${gap.toFixed(0)} ms after the last dial turned away; ${utp.refused()} uTP dial(s) refused`)
    assert.ok(gap < 700, `the next round came ${gap.toFixed(0)} ms after the turned-away one (webtorrent's wait is 1 s)`)
  })
})

// The sooner redials split webtorrent's first wait (1 s) and leave its backoff as it was (5 s, then
// 15 s): rounds at 0, 0.25, 0.5 and 1 s, the next at 6 s. Each round has one uTP dial.
test('a host that turns every dial away is dialled at 0.25, 0.5 and 1 s, then on webtorrent\'s backoff', { timeout: 60000 }, async () => {
  await dialBehindHost(1024 * 1024, Number.MAX_SAFE_INTEGER, refusingUtp, async ({ host, udp: utp, getter }) => {
    await waitFor('the first round', () => utp.refused() >= 1, 30000, 20)
    await new Promise((resolve) => setTimeout(resolve, 4500))
    const rounds = utp.refused()
    console.log(`rounds in the first 4.5 s: ${rounds}, their uTP dials at ${utp.times.map((t) => ((t - utp.times[0]!) / 1000).toFixed(2)).join(', ')} s; TCP connections ${host.connections.length}`)
    assert.equal(rounds, 4, `${rounds} rounds of dials in 4.5 s`)
    assert.equal(getter.list()[0]?.progress, 0)
  })
})

// libutp resends an unanswered SYN after 3 s: one SYN means the uTP dial was given up before that.
// A host with uTP on answers the SYN within a round trip; a qBittorrent with uTP off, turning TCP
// away while its torrent started, held the first byte 1 s longer when that dial was given 1 s.
test('a host that turned TCP away and leaves uTP unanswered is dialled over TCP again a quarter of a second later', async () => {
  // TCP that turns the first two connections away and relays the rest; UDP on the same port, silent
  await dialBehindHost(4 * 1024 * 1024, 2, silentUtp, async ({ host, udp: utp, downloaded }) => {
    await downloaded('the download through the host that turned TCP away twice')
    // encrypted, then plaintext, turned away; uTP unanswered; then TCP again, relayed
    assert.ok(host.connections.length >= 3, `${host.connections.length} TCP connections`)
    assert.equal(utp.syns(), 1, `the uTP dial sent ${utp.syns()} SYNs before TCP was tried again`)
    const gap = host.connections[2]!.openedAt - utp.times[0]!
    console.log(`TCP dialled again ${gap.toFixed(0)} ms after the unanswered uTP SYN`)
    assert.ok(gap < 700, `TCP was dialled again ${gap.toFixed(0)} ms after the unanswered uTP SYN (1 s before)`)
  })
})
