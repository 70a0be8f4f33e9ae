// One runner per client: how it seeds the generated file, and how it downloads it from a seeder.
// Loopback only; DHT, LSD, PEX, UPnP/NAT-PMP off everywhere. Downloaders dial the seeder directly
// (shoal get --peer, qBittorrent addPeers, webtorrent addPeer); aria2c, which has no such option,
// learns the seeder from the bench's own loopback tracker (only then is a tracker in the .torrent).
import { join } from 'node:path'
import { mkdtempSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { waitFor } from '../helpers/fixtures.ts'
import { freePort, firstLine, hasBinary, shoalCommand, shoalBin, tcpOpen } from '../interop/helpers/procs.ts'
import type { Procs, Proc } from '../interop/helpers/procs.ts'
import { Qbit } from '../interop/helpers/qbittorrent.ts'
import type { Cipher, QbitEncryption } from '../interop/helpers/qbittorrent.ts'
import { Transmission } from '../interop/helpers/transmission.ts'

export interface Ctx {
  procs: Procs
  dir: string
  /** Folder holding the generated payload.bin. */
  seedDir: string
  src: string
  /** .torrent without trackers, and the same info dict announced to `announce`. */
  torrent: string
  torrentTr: string
  announce: string
  infoHash: string
  size: number
  srcSha256?: string
}

/** `ciphers`: what the client reports of its connections' payload cipher, where it can tell. */
export interface Seeding { pid: number; port: number; stop: () => Promise<void>; ciphers?: () => Promise<Cipher[]> }
export interface Downloading { pid: number; done: Promise<void>; stop: () => Promise<void>; ciphers?: () => Promise<Cipher[]> }

export interface Client {
  name: string
  label: string
  available: () => boolean
  /** Starts seeding ctx.src; resolves once it is ready to serve. `tracker`: announce to ctx.announce. */
  seed: (ctx: Ctx, tracker: boolean) => Promise<Seeding>
  /** Starts downloading into `out` from `seeder`; `done` resolves when complete (verified by the client). */
  get: (ctx: Ctx, seeder: Seeding, out: string) => Promise<Downloading>
  /** This downloader needs the seeder announced on the tracker. */
  needsTracker?: boolean
  /** Why this client is measured only as a seeder (get is then never called). */
  seedOnly?: string
  /** Why this client is measured only against itself (a yardstick, never paired with another client). */
  yardstickOnly?: string
  /** The payload cipher it insists on, or the one it picks when the peer that dials it offers both. */
  cipher: { forces?: Cipher; prefers: Cipher }
  /** 'utp': it listens and dials over uTP only, so every pair with it runs over uTP. */
  transport?: Transport
}

export type Transport = 'tcp' | 'utp'

/** The transport of a bench connection: uTP when either side speaks nothing else. */
export function pairTransport (seeder: Client, downloader: Client): Transport {
  return seeder.transport === 'utp' || downloader.transport === 'utp' ? 'utp' : 'tcp'
}

/**
 * The payload cipher of a bench connection: the downloader always dials the seeder, so the seeder
 * answers the dialler's offer (MSE's crypto_select) unless either side insists on one.
 */
export function pairCipher (seeder: Client, downloader: Client): Cipher {
  return seeder.cipher.forces ?? downloader.cipher.forces ?? seeder.cipher.prefers
}

const SEEDING = new Set(['uploading', 'stalledUP', 'pausedUP', 'queuedUP', 'forcedUP'])
const DIALLING = new Set(['downloading', 'stalledDL', 'forcedDL'])
const ARIA_QUIET = ['--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
  '--disable-ipv6=true', '--console-log-level=warn', '--summary-interval=0', '--file-allocation=none', '--check-certificate=false',
  '--bt-max-peers=0', '--max-overall-upload-limit=0', '--max-overall-download-limit=0']
const wtRunner = join(import.meta.dirname, 'wt-runner.ts')

function stopper (p: Proc): () => Promise<void> {
  return async () => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return
    try { process.kill(p.child.pid!, 'SIGTERM') } catch { return }
    const t = setTimeout(() => { try { process.kill(p.child.pid!, 'SIGKILL') } catch { /* gone */ } }, 5000)
    await p.exited
    clearTimeout(t)
  }
}

/** Resolves at the first stdout line for which `isDone` holds (the client says it is complete and
 * verified; its shutdown afterwards is not counted), rejects if it exits before that. */
function doneLine (p: Proc, isDone: (line: string) => boolean): Promise<void> {
  return new Promise((res, rej) => {
    const rl = createInterface({ input: p.child.stdout! })
    rl.on('line', (l) => { if (isDone(l)) { rl.close(); res() } })
    void p.exited.then((code) => rej(new Error(`${p.name} exited ${code} before completing:\n${p.output().slice(-2000)}`)))
  })
}

function exitOk (p: Proc): Promise<void> {
  return p.exited.then((code) => { if (code !== 0) throw new Error(`${p.name} exited ${code}:\n${p.output().slice(-2000)}`) })
}

export const shoal: Client = {
  name: 'shoal',
  label: 'Shoal',
  // Encryption "prefer": an MSE handshake offering both, then plaintext when the peer allows it.
  cipher: { prefers: 'plain' },
  available: () => { try { shoalBin(); return true } catch { return false } },
  async seed (ctx, tracker) {
    const port = await freePort()
    const [cmd, args] = shoalCommand('seed', ctx.src, '--no-dht', '--no-lsd', '--port', String(port), '--data', mkdtempSync(join(ctx.dir, 'shoal-seed-')))
    if (tracker) args.push('--announce', ctx.announce)
    const p = ctx.procs.start('shoal seed', cmd, args)
    const magnet = await firstLine(p, 120000)
    if (!magnet.toLowerCase().includes(ctx.infoHash)) throw new Error(`shoal seed printed '${magnet}', not a magnet for ${ctx.infoHash}`)
    return { pid: p.child.pid!, port, stop: stopper(p) }
  },
  async get (ctx, seeder, out) {
    const port = await freePort()
    const p = ctx.procs.start('shoal get', ...shoalCommand('get', ctx.torrent, '--out', out, '--no-dht', '--no-lsd',
      '--port', String(port), '--data', mkdtempSync(join(ctx.dir, 'shoal-get-')), '--json', '--peer', `127.0.0.1:${seeder.port}`))
    return { pid: p.child.pid!, done: doneLine(p, (l) => l.startsWith('{"type":"done"')), stop: stopper(p) }
  }
}

export const webtorrent: Client = {
  name: 'webtorrent',
  label: 'webtorrent',
  cipher: { forces: 'plain', prefers: 'plain' }, // wt-runner leaves webtorrent's protocol encryption off
  available: () => true,
  async seed (ctx, tracker) {
    const port = await freePort()
    const p = ctx.procs.start('webtorrent seed', process.execPath, [wtRunner, 'seed', tracker ? ctx.torrentTr : ctx.torrent, ctx.seedDir, String(port)])
    const line = await firstLine(p, 120000)
    if (line !== 'ready') throw new Error(`webtorrent seed printed '${line}'`)
    return { pid: p.child.pid!, port, stop: stopper(p) }
  },
  async get (ctx, seeder, out) {
    const port = await freePort()
    const p = ctx.procs.start('webtorrent get', process.execPath, [wtRunner, 'get', ctx.torrent, out, String(port), `127.0.0.1:${seeder.port}`])
    return { pid: p.child.pid!, done: doneLine(p, (l) => l === 'done'), stop: stopper(p) }
  }
}

function qbitClient (name: string, label: string, encryption: QbitEncryption, o: { yardstickOnly?: string; transport?: Transport } = {}): Client {
  const transport = o.transport ?? 'tcp'
  return {
    name,
    label,
    yardstickOnly: o.yardstickOnly,
    transport,
    cipher: { forces: encryption === 'require' ? 'rc4' : encryption === 'disable' ? 'plain' : undefined, prefers: 'rc4' },
    available: () => hasBinary('qbittorrent-nox'),
    async seed (ctx, tracker) {
      const qb = await Qbit.start(ctx.procs, join(ctx.dir, `qbit-seed-${Date.now()}`), encryption, transport)
      await qb.addTorrent(tracker ? ctx.torrentTr : ctx.torrent, ctx.seedDir)
      await waitFor('qBittorrent to check the file and seed', async () => {
        const i = await qb.info(ctx.infoHash)
        return i && i.progress === 1 && SEEDING.has(i.state)
      }, 300000, 100)
      return { pid: qb.proc.child.pid!, port: qb.peerPort, stop: stopper(qb.proc), ciphers: () => qb.peerCiphers(ctx.infoHash) }
    },
    async get (ctx, seeder, out) {
      const qb = await Qbit.start(ctx.procs, join(ctx.dir, `qbit-get-${Date.now()}`), encryption, transport)
      await qb.addTorrent(ctx.torrent, out)
      let stopped = false
      const done = (async () => {
        let lastAdd = 0
        await waitFor('qBittorrent to download', async () => {
          if (stopped) return true // ends the poll; the bench has already given up on this run
          const i = await qb.info(ctx.infoHash)
          if (i && i.progress === 1 && SEEDING.has(i.state)) return true
          // A peer added while the torrent still checks its (absent) resume data gets one failed dial
          // and then libtorrent's 60 s reconnect wait ("allow" hid that by redialling in plaintext at
          // once), so add it only once the torrent can dial; libtorrent also drops a peer it failed to
          // reach, so add it again every few seconds.
          if (i && DIALLING.has(i.state) && Date.now() - lastAdd > 5000) { lastAdd = Date.now(); await qb.addPeer(ctx.infoHash, `127.0.0.1:${seeder.port}`) }
          return false
        }, 600000, 50)
      })()
      const stop = stopper(qb.proc)
      return { pid: qb.proc.child.pid!, done, stop: () => { stopped = true; return stop() }, ciphers: () => qb.peerCiphers(ctx.infoHash) }
    }
  }
}

// qBittorrent out of the box ("allow") sends RC4 to Shoal every time: once a handshake is encrypted it
// accepts only RC4, and Shoal starts with one. Between two qBittorrents "allow" gave RC4 when the
// first dial worked, and plaintext when that dial failed because the new torrent was still checking
// and it redialled in the clear (first byte 1.5 s later, seeder CPU 0.8 instead of 1.7 s, 351-394
// against 196 MiB/s): the yardstick was a coin toss between two ciphers.
// Here the qBittorrent that meets Shoal requires encryption (every connection RC4, as with Shoal), and
// a second one with encryption off gives the plaintext yardstick for pairs that negotiate plaintext
// (Shoal -> Shoal after its encrypted handshake, aria2c, webtorrent).
export const qbittorrent = qbitClient('qbittorrent', 'qBittorrent', 'require')
export const qbittorrentPlain = qbitClient('qbittorrent-plain', 'qBittorrent (no encryption)', 'disable',
  { yardstickOnly: 'the plaintext yardstick: qBittorrent with encryption off, measured against itself only' })
// TCP off (libtorrent still takes TCP connections and closes them): Shoal reaches it over uTP only,
// and qBittorrent (uTP) -> itself is the yardstick for those pairs.
export const qbittorrentUtp = qbitClient('qbittorrent-utp', 'qBittorrent (uTP)', 'require', { transport: 'utp' })

export const aria2: Client = {
  name: 'aria2',
  label: 'aria2c',
  cipher: { prefers: 'plain' }, // --bt-min-crypto-level=plain: the lowest level a peer offers
  available: () => hasBinary('aria2c'),
  needsTracker: true,
  async seed (ctx, tracker) {
    const port = await freePort()
    const p = ctx.procs.start('aria2c seed', 'aria2c', [...ARIA_QUIET, '-V', '--seed-ratio=0.0', '--seed-time=600',
      `--listen-port=${port}`, `--dht-listen-port=${port}`, '-d', ctx.seedDir, tracker ? ctx.torrentTr : ctx.torrent])
    await waitFor('aria2c to listen', () => tcpOpen(port), 300000, 50)
    return { pid: p.child.pid!, port, stop: stopper(p) }
  },
  async get (ctx, _seeder, out) {
    const port = await freePort()
    const p = ctx.procs.start('aria2c get', 'aria2c', [...ARIA_QUIET, '--seed-time=0', '--bt-stop-timeout=600',
      `--listen-port=${port}`, `--dht-listen-port=${port}`, '-d', out, ctx.torrentTr])
    return { pid: p.child.pid!, done: exitOk(p), stop: stopper(p) }
  }
}

export const transmission: Client = {
  name: 'transmission',
  label: 'Transmission',
  cipher: { prefers: 'rc4' }, // "prefer encryption" selects RC4 when offered
  available: () => hasBinary('transmission-daemon') && hasBinary('transmission-remote'),
  seedOnly: 'Transmission 3.00 does not dial 127.x peers it hears of and shoal seed cannot dial out to it, so it is measured as a seeder only',
  async seed (ctx) {
    const tr = await Transmission.start(ctx.procs, join(ctx.dir, `tr-conf-${Date.now()}`), ctx.seedDir)
    tr.add(ctx.torrent, ctx.seedDir)
    await waitFor('Transmission to check the file and seed', () => {
      const i = tr.info()
      return i.percent === 100 && /Seeding|Idle/.test(i.state)
    }, 300000, 100)
    return { pid: tr.proc.child.pid!, port: tr.peerPort, stop: stopper(tr.proc) }
  },
  get () { return Promise.reject(new Error('Transmission is measured as a seeder only')) }
}

/** Every client the bench knows, Shoal first. */
export const CLIENTS: Client[] = [shoal, qbittorrent, qbittorrentPlain, qbittorrentUtp, aria2, webtorrent, transmission]
