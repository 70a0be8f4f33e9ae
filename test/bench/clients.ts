// One runner per client: how it seeds the generated file, and how it downloads it from a seeder.
// Loopback only; DHT, LSD, PEX, UPnP/NAT-PMP off everywhere. Downloaders dial the seeder directly
// (shoal get --peer, qBittorrent addPeers, webtorrent addPeer); aria2c, which has no such option,
// learns the seeder from the bench's own loopback tracker (only then is a tracker in the .torrent).
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { waitFor } from '../helpers/fixtures.ts'
import { freePort, firstLine, hasBinary, shoalArgs, shoalBin, tcpOpen } from '../interop/helpers/procs.ts'
import type { Procs, Proc } from '../interop/helpers/procs.ts'
import { Qbit } from '../interop/helpers/qbittorrent.ts'
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

export interface Seeding { pid: number; port: number; stop: () => Promise<void> }
export interface Downloading { pid: number; done: Promise<void>; stop: () => Promise<void> }

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
}

const SEEDING = new Set(['uploading', 'stalledUP', 'pausedUP', 'queuedUP', 'forcedUP'])
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
  available: () => { try { shoalBin(); return true } catch { return false } },
  async seed (ctx, tracker) {
    const port = await freePort()
    const args = shoalArgs('seed', ctx.src, '--no-dht', '--no-lsd', '--port', String(port), '--data', join(ctx.dir, `shoal-seed-${port}`))
    if (tracker) args.push('--announce', ctx.announce)
    const p = ctx.procs.start('shoal seed', process.execPath, args)
    const magnet = await firstLine(p, 120000)
    if (!magnet.toLowerCase().includes(ctx.infoHash)) throw new Error(`shoal seed printed '${magnet}', not a magnet for ${ctx.infoHash}`)
    return { pid: p.child.pid!, port, stop: stopper(p) }
  },
  async get (ctx, seeder, out) {
    const port = await freePort()
    const p = ctx.procs.start('shoal get', process.execPath, shoalArgs('get', ctx.torrent, '--out', out, '--no-dht', '--no-lsd',
      '--port', String(port), '--data', join(ctx.dir, `shoal-get-${port}`), '--json', '--peer', `127.0.0.1:${seeder.port}`))
    return { pid: p.child.pid!, done: doneLine(p, (l) => l.startsWith('{"type":"done"')), stop: stopper(p) }
  }
}

export const webtorrent: Client = {
  name: 'webtorrent',
  label: 'webtorrent',
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

export const qbittorrent: Client = {
  name: 'qbittorrent',
  label: 'qBittorrent',
  available: () => hasBinary('qbittorrent-nox'),
  async seed (ctx, tracker) {
    const qb = await Qbit.start(ctx.procs, join(ctx.dir, `qbit-seed-${Date.now()}`))
    await qb.addTorrent(tracker ? ctx.torrentTr : ctx.torrent, ctx.seedDir)
    await waitFor('qBittorrent to check the file and seed', async () => {
      const i = await qb.info(ctx.infoHash)
      return i && i.progress === 1 && SEEDING.has(i.state)
    }, 300000, 100)
    return { pid: qb.proc.child.pid!, port: qb.peerPort, stop: stopper(qb.proc) }
  },
  async get (ctx, seeder, out) {
    const qb = await Qbit.start(ctx.procs, join(ctx.dir, `qbit-get-${Date.now()}`))
    await qb.addTorrent(ctx.torrent, out)
    let stopped = false
    const done = (async () => {
      let lastAdd = 0
      await waitFor('qBittorrent to download', async () => {
        if (stopped) return true // ends the poll; the bench has already given up on this run
        const i = await qb.info(ctx.infoHash)
        if (i && i.progress === 1 && SEEDING.has(i.state)) return true
        // libtorrent drops a peer it failed to reach: add it again every few seconds.
        if (i && Date.now() - lastAdd > 5000) { lastAdd = Date.now(); await qb.addPeer(ctx.infoHash, `127.0.0.1:${seeder.port}`) }
        return false
      }, 600000, 50)
    })()
    const stop = stopper(qb.proc)
    return { pid: qb.proc.child.pid!, done, stop: () => { stopped = true; return stop() } }
  }
}

export const aria2: Client = {
  name: 'aria2',
  label: 'aria2c',
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
export const CLIENTS: Client[] = [shoal, qbittorrent, aria2, webtorrent, transmission]
