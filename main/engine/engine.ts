// The transfer engine: one WebTorrent client, the torrents the user has, their persistence, and
// change events for the UI. Plain Node: the Electron app, `shoal serve` and the CLI all use it.
import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import { access, mkdir, readFile, rm, rmdir, constants as fsConstants } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import bencode from 'bencode'
import WebTorrent, { type WtTorrent, type WtOptions } from 'webtorrent'
import type {
  AddSource, BannedPeer, CreateOptions, EventPayloads, FilePriority, GlobalStats, Origin, PeerSnapshot,
  Settings, ShareProgress, TorrentDetail, TorrentState, TorrentSummary
} from '../contract/contract.ts'
import { SettingsSchema } from '../contract/contract.ts'
import type { KeyValueStore } from '../store/store.ts'
import { EngineError, fromFsError, toEngineError } from './errors.ts'
import { parseTorrentBytes, parseUri, type CheckedInfo, type ParsedInput } from './torrent-input.ts'
import { buildShare } from './share-builder.ts'
import { verifyPieces, hashThreads } from './piece-hasher.ts'
import { HashPool } from './hash-helpers.ts'
import { captureResume, planRestore, getBit, setBit, bitfieldBytes, type DiskFile, type ResumeData } from './resume.ts'
import { bitfieldBase64, fileSnapshots, peerSnapshots, verifiedBytesIn } from './snapshots.ts'
import { mappedPathStore } from './mapped-path-store.ts'
import { defaultSettings } from './settings.ts'
import { advertisePeers } from './pex.ts'
import { installFastMseDh } from './mse-dh.ts'
import { loadBlocklist } from './blocklist.ts'
import { PeerGuard } from './peer-guard.ts'
import { PeerRevival } from './peer-revival.ts'
import { DiskFullRetry, diskFullError, keepVerified } from './disk-full-retry.ts'
import { TrackerReports } from './tracker-reports.ts'
import { isInside, safeJoin } from './safe-paths.ts'

// Protocol encryption without a per-connection prime check (see mse-dh.ts).
installFastMseDh()

export interface TorrentRecord {
  infoHash: string
  name: string
  magnetURI: string
  origin: Origin
  /** Folder the torrent's files are laid out under. */
  savePath: string
  /** For shares of several separate items: where each file really is on disk. */
  filePaths: string[] | null
  torrentFile: string | null
  announce: string[]
  peers: string[]
  addedAt: number
  completedAt: number | null
  paused: boolean
  sequential: boolean
  priorities: FilePriority[] | null
  resume: ResumeData | null
  uploaded: number
  downloaded: number
  error: { code: EngineError['code']; message: string } | null
}

export interface PersistedState extends Record<string, unknown> {
  version: number
  settings: Settings
  torrents: TorrentRecord[]
}

export interface EngineOptions {
  store: KeyValueStore<PersistedState>
  /** Settings to use over what is stored (CLI flags). Not persisted unless updateSettings is called. */
  overrides?: Partial<Settings>
  /** DHT bootstrap nodes ("host:port"); default: the public ones. Tests pass a local node. */
  dhtBootstrap?: string[]
  /** false: never announce to trackers (tests of DHT or PEX alone). */
  tracker?: boolean
  /** Milliseconds between change batches (the UI's refresh); default 500. */
  tickMs?: number
  /** false: load stored torrents but start none (the CLI runs only the torrent it was asked for). */
  autoStart?: boolean
  /**
   * Keep hash worker threads started between shares (up to two; the app and `shoal serve`): a share
   * then starts hashing at once instead of after the workers' start-up, for about 13 MiB of RSS each.
   */
  keepHashWorkers?: boolean
}

export type EngineEvents = {
  [E in 'torrents.changed' | 'torrent.done' | 'share.progress' | 'stats.changed' | 'settings.changed']: [EventPayloads[E]]
} & { error: [EngineError] }

interface Live {
  rec: TorrentRecord
  wt: WtTorrent | null
  info: CheckedInfo | null
  /** The .torrent's comment and "created by", read when the record is loaded or metadata arrives. */
  meta: { comment: string | null; createdBy: string | null }
  checking: { hashed: number; total: number } | null
  error: EngineError | null
  /** Session counters of wt are added to the record's totals when wt goes away. */
  sessionUp: number
  sessionDown: number
  resumeDirty: boolean
  trackers: TrackerReports
  starting: Promise<void> | null
  /** Files to select once a magnet's metadata arrives. */
  pendingSelect: number[] | null
  revival: PeerRevival
}

const PRIORITY_NUM: Record<Exclude<FilePriority, 'skip'>, number> = { low: 0, normal: 1, high: 2 }
const STORE_VERSION = 1
const RESUME_FLUSH_MS = 5000
/**
 * The periodic tick re-reads a quiet torrent (no connections, no speed, seeding or paused) only on
 * every QUIET_EVERY-th tick: with 500 idle torrents, building and diffing every summary twice a
 * second was most of the engine's idle CPU. Commands tick in full at once.
 */
const QUIET_EVERY = 4

export class Engine extends EventEmitter<EngineEvents> {
  private client!: WebTorrent
  private readonly live = new Map<string, Live>()
  private readonly store: KeyValueStore<PersistedState>
  private settings: Settings
  private readonly opts: EngineOptions
  private lastSent = new Map<string, TorrentSummary>()
  private tickTimer: NodeJS.Timeout | null = null
  private periodicTicks = 0
  private flushTimer: NodeJS.Timeout | null = null
  private saveTimer: NodeJS.Timeout | null = null
  private readonly diskRetry = new DiskFullRetry<Live>({
    torrents: () => this.live.values(),
    waiting: (l) => l.error?.code === 'DISK_FULL' && !!l.info && !l.rec.paused && !l.wt && !l.starting,
    folder: (l) => l.rec.savePath,
    pieceLength: (l) => l.info?.pieceLength ?? 0,
    bytesLeft: (l) => Math.max(0, (l.info?.length ?? 0) * (1 - this.selectedProgress(l))),
    restart: async (l) => {
      await this.start(l)
      this.saveSoon()
      this.tick()
    }
  })
  private closed = false
  private boundPort = 0
  /** What setAnnouncedPort asked for; kept so a client restarted for other settings announces it too. */
  private announcedPort: number | null = null
  private lastStats: GlobalStats | null = null
  /** The blocklist and this session's bans; webtorrent consults it before every connection. */
  private readonly guard = new PeerGuard(() => this.disconnectRefused())
  private blocklistError: string | null = null
  private readonly hashPool: HashPool

  private constructor (opts: EngineOptions, settings: Settings) {
    super()
    this.opts = opts
    this.store = opts.store
    this.settings = settings
    this.hashPool = new HashPool(opts.keepHashWorkers === true ? Math.min(2, hashThreads()) : 0)
  }

  /** Opens the engine: loads settings and torrents, starts listening, resumes what was running. */
  static async open (opts: EngineOptions): Promise<Engine> {
    const stored = opts.store.get('settings')
    const base = { ...defaultSettings(), ...(stored ?? {}) }
    const parsed = SettingsSchema.safeParse({ ...base, ...(opts.overrides ?? {}) })
    const settings = parsed.success ? parsed.data : { ...defaultSettings(), ...(opts.overrides ?? {}) }
    const engine = new Engine(opts, settings)
    if (settings.blocklistPath) {
      // A blocklist that went missing must not stop the app: run without it and say so in the stats.
      try { engine.guard.blocklist = await loadBlocklist(settings.blocklistPath) } catch (err) { engine.blocklistError = toEngineError(err).message }
    }
    await engine.startClient()
    for (const rec of opts.store.get('torrents') ?? []) {
      engine.live.set(rec.infoHash, engine.newLive(rec))
    }
    engine.tickTimer = setInterval(() => engine.tick(true), opts.tickMs ?? 500)
    engine.tickTimer.unref()
    engine.flushTimer = setInterval(() => { void engine.flushResume() }, RESUME_FLUSH_MS)
    engine.flushTimer.unref()
    // Downloads stopped by a full disk (now or in an earlier run) resume by themselves once space is freed.
    engine.diskRetry.start()
    if (opts.autoStart !== false) {
      await Promise.all([...engine.live.values()].filter((l) => !l.rec.paused && !l.rec.error).map((l) => engine.start(l)))
    }
    // After the resume, so their start-up does not compete with it for the cores.
    engine.hashPool.warm()
    return engine
  }

  private newLive (rec: TorrentRecord): Live {
    let info: CheckedInfo | null = null
    let meta: Live['meta'] = { comment: null, createdBy: null }
    if (rec.torrentFile) {
      try {
        const parsed = parseTorrentBytes(Buffer.from(rec.torrentFile, 'base64'))
        info = parsed.info
        meta = { comment: parsed.comment, createdBy: parsed.createdBy }
      } catch { info = null }
    }
    const error = rec.error ? new EngineError(rec.error.code, rec.error.message) : null
    return { rec, wt: null, info, meta, checking: null, error, sessionUp: 0, sessionDown: 0, resumeDirty: false, trackers: new TrackerReports(), starting: null, pendingSelect: null, revival: new PeerRevival() }
  }

  // ------------------------------------------------------------ the WebTorrent client

  private clientOptions (): WtOptions {
    const s = this.settings
    return {
      torrentPort: s.port,
      dht: s.dht ? (this.opts.dhtBootstrap ? { bootstrap: this.opts.dhtBootstrap } : true) : false,
      tracker: this.opts.tracker === false ? false : {},
      lsd: s.lsd,
      utPex: s.pex,
      utp: s.utp,
      // Port mapping is main/nat's job; two mappers on one router fight over the same port.
      natUpnp: false,
      natPmp: false,
      maxConns: s.maxConnections,
      secure: s.encryption === 'disable' ? 0 : s.encryption === 'require' ? 2 : 1,
      downloadLimit: s.maxDownloadSpeed > 0 ? s.maxDownloadSpeed : -1,
      uploadLimit: s.maxUploadSpeed > 0 ? s.maxUploadSpeed : -1
    }
  }

  private startClient (): Promise<void> {
    const client = new WebTorrent(this.clientOptions())
    // Set before anything connects; webtorrent's own `blocklist` option loads asynchronously and
    // only logs a bad file, and its ip-set has no room for session bans.
    ;(client as unknown as { blocked: PeerGuard['blocked'] }).blocked = this.guard.blocked
    this.client = client
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        const e = err as NodeJS.ErrnoException
        reject(e.code === 'EADDRINUSE'
          ? new EngineError('BAD_ARGUMENT', `Port ${this.settings.port} is already in use by another program. Choose another port in Settings.`, { cause: err })
          : toEngineError(err))
      }
      client.once('error', onError)
      client.once('listening', () => {
        // webtorrent keeps one field for the port it listens on and the port it announces;
        // setAnnouncedPort may change the second, so the first is kept here.
        this.boundPort = client.torrentPort
        if (this.announcedPort !== null) client.torrentPort = this.announcedPort
        client.removeListener('error', onError)
        client.on('error', (err: Error) => this.emit('error', toEngineError(err)))
        resolve()
      })
    })
  }

  /** Tears down the client and starts a new one with the current settings, keeping every torrent. */
  private async restartClient (): Promise<void> {
    const running = [...this.live.values()].filter((l) => l.wt || l.starting)
    await Promise.all(running.map((l) => this.stop(l)))
    await new Promise<void>((r) => this.client.destroy(() => r()))
    await this.startClient()
    await Promise.all(running.map((l) => this.start(l)))
  }

  get listeningPort (): number {
    return this.boundPort
  }

  // ------------------------------------------------------------ adding

  /** Adds a magnet URI, bare info hash, or .torrent (path or bytes). */
  async add (source: AddSource | string, options: { savePath?: string; paused?: boolean; selectFiles?: number[]; peers?: string[]; announce?: string[] } = {}): Promise<TorrentSummary> {
    this.assertOpen()
    const input = await this.parseSource(source)
    const existing = this.live.get(input.infoHash)
    if (existing) {
      throw new EngineError('DUPLICATE', `"${existing.rec.name}" is already in your list.`, { infoHash: existing.rec.infoHash })
    }
    const savePath = resolve(options.savePath ?? this.settings.downloadPath)
    await ensureWritableDir(savePath)
    const priorities = input.info && options.selectFiles
      ? input.info.files.map((_, i) => (options.selectFiles!.includes(i) ? 'normal' : 'skip') as FilePriority)
      : null
    const rec: TorrentRecord = {
      infoHash: input.infoHash,
      name: input.name ?? input.infoHash,
      magnetURI: input.magnetURI,
      origin: 'downloaded',
      savePath,
      filePaths: null,
      torrentFile: input.torrentFile ? Buffer.from(input.torrentFile).toString('base64') : null,
      announce: [...new Set([...input.announce, ...(options.announce ?? [])])],
      peers: [...new Set([...input.peers, ...(options.peers ?? [])])],
      addedAt: Date.now(),
      completedAt: null,
      paused: !!options.paused,
      sequential: false,
      priorities,
      resume: null,
      uploaded: 0,
      downloaded: 0,
      error: null
    }
    const l = this.newLive(rec)
    if (!input.info && options.selectFiles) l.pendingSelect = options.selectFiles
    this.live.set(rec.infoHash, l)
    this.saveSoon()
    if (!rec.paused) await this.start(l)
    return this.summary(l)
  }

  private async parseSource (source: AddSource | string): Promise<ParsedInput> {
    if (typeof source === 'string') {
      const s = source.trim()
      if (/^magnet:/i.test(s) || /^[0-9a-f]{40}$/i.test(s) || /^[a-z2-7]{32}$/i.test(s)) return parseUri(s)
      return this.parseSource({ kind: 'torrentFile', path: s })
    }
    switch (source.kind) {
      case 'uri': return parseUri(source.uri)
      case 'torrentBytes': return parseTorrentBytes(Buffer.from(source.base64, 'base64'))
      case 'torrentFile': {
        let bytes: Buffer
        try { bytes = await readFile(source.path) } catch (err) { throw fromFsError(err, source.path, 'reading') }
        return parseTorrentBytes(bytes)
      }
    }
  }

  /** Shares files and folders: hashes them (with progress events) and seeds. */
  async share (paths: string[], options: CreateOptions = {}, onProgress?: (p: ShareProgress) => void): Promise<{ jobId: string; infoHash: string; magnetURI: string }> {
    this.assertOpen()
    const jobId = randomUUID()
    const name = options.name ?? paths.map((p) => p.split(/[\\/]/).pop()).join(', ')
    const report = (p: Omit<ShareProgress, 'jobId'>) => {
      const ev = { jobId, ...p }
      onProgress?.(ev)
      this.emit('share.progress', ev)
    }
    report({ name, phase: 'scanning', hashedBytes: 0, totalBytes: 0, infoHash: null, error: null })
    let built
    try {
      let last = 0
      built = await buildShare(paths, options, (p) => {
        const now = Date.now()
        if (now - last < 200 && p.hashedBytes < p.totalBytes) return
        last = now
        report({ name, phase: 'hashing', hashedBytes: p.hashedBytes, totalBytes: p.totalBytes, infoHash: null, error: null })
      }, { pool: this.hashPool })
    } catch (err) {
      const e = toEngineError(err)
      report({ name, phase: 'error', hashedBytes: 0, totalBytes: 0, infoHash: null, error: e.message })
      throw e
    }
    const parsed = parseTorrentBytes(built.torrentFile)
    const existing = this.live.get(built.infoHash)
    if (existing) {
      const storedAt = this.diskFilesOf(existing.rec, parsed.info!).map((f) => resolve(f.diskPath)).sort()
      const givenAt = built.files.map((f) => resolve(f.diskPath)).sort()
      if (storedAt.join('\0') === givenAt.join('\0')) {
        const e = new EngineError('DUPLICATE', `"${existing.rec.name}" is already shared: the same files give the same torrent.`, { infoHash: built.infoHash })
        report({ name: built.name, phase: 'error', hashedBytes: built.length, totalBytes: built.length, infoHash: built.infoHash, error: e.message })
        throw e
      }
      // The same content from somewhere else (moved or copied): the files just hashed are the ones
      // to seed; the stored entry may point at files that are no longer there.
      await this.remove([built.infoHash], false)
    }
    const kept = existing ? { addedAt: existing.rec.addedAt, uploaded: existing.rec.uploaded } : { addedAt: Date.now(), uploaded: 0 }
    const savePath = built.savePath ?? dirname(built.files[0]!.diskPath)
    const rec: TorrentRecord = {
      infoHash: built.infoHash,
      name: built.name,
      magnetURI: parsed.magnetURI,
      origin: 'shared',
      savePath,
      filePaths: built.savePath ? null : built.files.map((f) => f.diskPath),
      torrentFile: Buffer.from(built.torrentFile).toString('base64'),
      announce: parsed.announce,
      peers: [],
      addedAt: kept.addedAt,
      completedAt: Date.now(),
      paused: false,
      sequential: false,
      priorities: null,
      resume: null,
      uploaded: kept.uploaded,
      downloaded: 0,
      error: null
    }
    // Every piece was just hashed from these very files: trust it all.
    const all = new Uint8Array(bitfieldBytes(built.pieceCount))
    for (let i = 0; i < built.pieceCount; i++) setBit(all, i)
    rec.resume = await captureResume(this.diskFilesOf(rec, parsed.info!), all)
    const l = this.newLive(rec)
    this.live.set(rec.infoHash, l)
    this.saveSoon()
    await this.start(l)
    report({ name: built.name, phase: 'done', hashedBytes: built.length, totalBytes: built.length, infoHash: built.infoHash, error: null })
    return { jobId, infoHash: built.infoHash, magnetURI: rec.magnetURI }
  }

  // ------------------------------------------------------------ starting and stopping a torrent

  private diskFilesOf (rec: TorrentRecord, info: CheckedInfo): DiskFile[] {
    return info.files.map((f, i) => ({
      diskPath: rec.filePaths?.[i] ?? safeJoin(rec.savePath, f.path),
      offset: f.offset,
      length: f.length
    }))
  }

  /** Puts a torrent into the client: restores resume data (hashing only changed files), then adds. */
  private start (l: Live): Promise<void> {
    if (l.wt) return Promise.resolve()
    if (l.starting) return l.starting
    l.error = null
    l.rec.error = null
    const run = async () => {
      let bitfield: Uint8Array | undefined
      if (l.info) {
        const files = this.diskFilesOf(l.rec, l.info)
        const plan = await planRestore(files, l.info.pieceLength, l.info.pieceCount, l.rec.resume)
        bitfield = plan.trusted
        if (plan.toVerify.length) {
          const hashes = piecesOf(l.rec.torrentFile!)
          l.checking = { hashed: 0, total: 1 }
          const good = await verifyPieces(files.map((f) => ({ path: f.diskPath, offset: f.offset, length: f.length })), l.info.pieceLength, hashes, plan.toVerify,
            (p) => { l.checking = { hashed: p.hashedBytes, total: p.totalBytes } }, { pool: this.hashPool })
          for (const i of good) setBit(bitfield, i)
          l.checking = null
        }
      }
      if (this.closed || !this.live.has(l.rec.infoHash) || l.rec.paused) return
      this.attach(l, bitfield)
    }
    l.starting = run().catch((err) => {
      l.checking = null
      this.fail(l, toEngineError(err))
    }).finally(() => { l.starting = null })
    return l.starting
  }

  private attach (l: Live, bitfield: Uint8Array | undefined): void {
    const rec = l.rec
    const source = rec.torrentFile ? Buffer.from(rec.torrentFile, 'base64') : rec.magnetURI
    const wt = this.client.add(source, {
      path: rec.savePath,
      announce: rec.announce,
      strategy: rec.sequential ? 'sequential' : 'rarest',
      // No piece cache: with webtorrent's 20 cached pieces a seeder read whole pieces to serve blocks
      // and left them as late-freed garbage. 512 MiB, 2 runs each: seeder peak RSS 168-191 -> 131-146
      // MiB, seeder CPU 1.41-1.51 -> 1.20-1.26 s (to Shoal) and 2.47 -> 2.24 s (to qBittorrent).
      storeCacheSlots: 0,
      ...(bitfield ? { bitfield, trustBitfield: true } : {}),
      ...(rec.filePaths ? { store: mappedPathStore(rec.filePaths) } : {})
    })
    l.wt = wt
    l.trackers.clear()
    wt.on('metadata', () => this.onMetadata(l, wt))
    wt.on('ready', () => this.applyPriorities(l))
    wt.on('verified', () => { l.resumeDirty = true })
    wt.on('done', () => this.onDone(l))
    wt.on('error', (err: Error) => this.fail(l, toEngineError(err)))
    wt.on('warning', (err: Error) => l.trackers.warning(l.wt?.announce ?? [], err))
    wt.on('ready', () => l.trackers.watch(wt))
    l.revival.watch(wt)
    if (this.settings.pex) advertisePeers(wt)
    this.guard.watch(wt, () => rec.name)
    const addPeers = () => { for (const p of rec.peers) wt.addPeer(p) }
    if (wt.infoHash) addPeers()
    else wt.once('infoHash', addPeers)
  }

  private onMetadata (l: Live, wt: WtTorrent): void {
    if (l.info) return
    try {
      // Metadata from peers gets the same checks as a .torrent file before anything touches disk.
      const bytes = wt.torrentFile!
      const parsed = parseTorrentBytes(bytes)
      l.info = parsed.info
      l.meta = { comment: parsed.comment, createdBy: parsed.createdBy }
      l.rec.torrentFile = Buffer.from(bytes).toString('base64')
      l.rec.name = parsed.name ?? l.rec.name
      const pending = l.pendingSelect
      if (pending) l.rec.priorities = parsed.info!.files.map((_, i) => (pending.includes(i) ? 'normal' : 'skip'))
      this.saveSoon()
    } catch (err) {
      this.fail(l, toEngineError(err))
    }
  }

  private applyPriorities (l: Live): void {
    const wt = l.wt
    if (!wt || !wt.ready || !l.rec.priorities || wt.pieces.length === 0) return
    wt.deselect(0, wt.pieces.length - 1)
    wt.files.forEach((f, i) => {
      const p = l.rec.priorities![i] ?? 'normal'
      if (p !== 'skip') f.select(PRIORITY_NUM[p])
    })
  }

  private onDone (l: Live): void {
    l.resumeDirty = true
    if (!l.rec.completedAt || l.rec.origin === 'downloaded') {
      const first = !l.rec.completedAt
      l.rec.completedAt = Date.now()
      if (first && l.rec.origin === 'downloaded') this.emit('torrent.done', { infoHash: l.rec.infoHash, name: l.rec.name })
    }
    this.saveSoon()
    void this.flushResume()
  }

  private fail (l: Live, err: EngineError): void {
    // Stopped, not given up: diskRetry starts it again once the disk has room.
    const diskFull = err.code === 'DISK_FULL' && !!l.info
    if (diskFull) err = diskFullError(l.rec.name, l.rec.savePath, err)
    l.error = err
    l.rec.error = { code: err.code, message: err.message }
    if (l.wt) {
      const wt = l.wt
      // Keep every piece verified so far: save it as resume data once the files are closed.
      const kept = diskFull && l.info ? keepVerified(wt, l.info.files.length) : null
      if (kept) l.rec.resume = kept.interim
      this.foldSession(l)
      l.wt = null
      const saveBits = () => {
        if (!kept || !l.info || l.wt || l.starting) return
        void captureResume(this.diskFilesOf(l.rec, l.info), kept.bits).then((r) => {
          if (l.wt || l.starting) return
          l.rec.resume = r
          this.saveSoon()
        })
      }
      if (!wt.destroyed) wt.destroy({}, saveBits)
      else saveBits()
    }
    this.saveSoon()
  }

  private foldSession (l: Live): void {
    if (!l.wt) return
    l.rec.uploaded += l.wt.uploaded - l.sessionUp
    l.rec.downloaded += l.wt.received - l.sessionDown
    l.sessionUp = 0
    l.sessionDown = 0
  }

  /** Takes a torrent out of the client (closing its files) and saves its resume data. */
  private async stop (l: Live): Promise<void> {
    if (l.starting) await l.starting
    const wt = l.wt
    if (!wt) return
    const bits = wt.bitfield ? new Uint8Array(wt.bitfield.buffer) : null
    this.foldSession(l)
    l.wt = null
    await new Promise<void>((r) => wt.destroy({}, () => r()))
    if (bits && l.info) l.rec.resume = await captureResume(this.diskFilesOf(l.rec, l.info), bits)
    this.saveSoon()
  }

  // ------------------------------------------------------------ commands

  private get (infoHash: string): Live {
    const l = this.live.get(infoHash.toLowerCase())
    if (!l) throw new EngineError('NOT_FOUND', `No torrent with info hash ${infoHash}.`)
    return l
  }

  async pause (infoHashes: string[]): Promise<void> {
    const ls = infoHashes.map((h) => this.get(h))
    await Promise.all(ls.map(async (l) => {
      l.rec.paused = true
      await this.stop(l)
    }))
    this.saveSoon()
    this.tick()
  }

  async resume (infoHashes: string[]): Promise<void> {
    const ls = infoHashes.map((h) => this.get(h))
    await Promise.all(ls.map(async (l) => {
      l.rec.paused = false
      l.error = null
      l.rec.error = null
      await this.start(l)
    }))
    this.saveSoon()
    this.tick()
  }

  async remove (infoHashes: string[], deleteData: boolean): Promise<void> {
    const ls = infoHashes.map((h) => this.get(h))
    for (const l of ls) {
      l.rec.paused = true
      await this.stop(l)
      this.live.delete(l.rec.infoHash)
      if (deleteData && l.info) await this.deleteFiles(l.rec, l.info)
    }
    this.saveSoon()
    this.tick()
  }

  /** Deletes a torrent's files, and the folders it created if they end up empty. Never outside savePath. */
  private async deleteFiles (rec: TorrentRecord, info: CheckedInfo): Promise<void> {
    const files = this.diskFilesOf(rec, info)
    const dirs = new Set<string>()
    for (const f of files) {
      if (!rec.filePaths && !isInside(rec.savePath, f.diskPath)) continue
      await rm(f.diskPath, { force: true })
      for (let d = dirname(f.diskPath); isInside(rec.savePath, d) && d !== resolve(rec.savePath); d = dirname(d)) dirs.add(d)
    }
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
      await rmdir(d).catch(() => {})
    }
  }

  /** Hashes every piece again, whatever the resume data says. */
  async recheck (infoHash: string): Promise<void> {
    const l = this.get(infoHash)
    if (!l.info) throw new EngineError('UNSUPPORTED', 'The torrent has no metadata yet; nothing to check.')
    const wasPaused = l.rec.paused
    await this.stop(l)
    l.rec.resume = null
    l.rec.paused = false
    await this.start(l)
    if (wasPaused) await this.pause([infoHash])
  }

  setFilePriorities (infoHash: string, files: Array<{ index: number; priority: FilePriority }>): void {
    const l = this.get(infoHash)
    const count = l.info?.files.length
    if (count === undefined) throw new EngineError('UNSUPPORTED', 'The file list is not known until the torrent\'s metadata arrives.')
    const pr = l.rec.priorities ?? new Array<FilePriority>(count).fill('normal')
    for (const f of files) {
      if (f.index >= count) throw new EngineError('BAD_ARGUMENT', `File ${f.index} does not exist (the torrent has ${count} files).`)
      pr[f.index] = f.priority
    }
    l.rec.priorities = pr
    this.applyPriorities(l)
    this.saveSoon()
    this.tick()
  }

  setSequential (infoHash: string, sequential: boolean): void {
    const l = this.get(infoHash)
    l.rec.sequential = sequential
    if (l.wt) l.wt.strategy = sequential ? 'sequential' : 'rarest'
    this.saveSoon()
    this.tick()
  }

  exportTorrent (infoHash: string): { name: string; bytes: Uint8Array } {
    const l = this.get(infoHash)
    if (!l.rec.torrentFile) throw new EngineError('UNSUPPORTED', 'The torrent has no metadata yet, so there is no .torrent to export.')
    return { name: `${l.rec.name}.torrent`, bytes: Buffer.from(l.rec.torrentFile, 'base64') }
  }

  has (infoHash: string): boolean {
    return this.live.has(infoHash.toLowerCase())
  }

  addPeer (infoHash: string, addr: string): void {
    const l = this.get(infoHash)
    if (!l.rec.peers.includes(addr)) l.rec.peers.push(addr)
    if (l.wt?.infoHash) l.wt.addPeer(addr)
  }

  getSettings (): Settings {
    return { ...this.settings }
  }

  async updateSettings (patch: Partial<Settings>): Promise<Settings> {
    const next = SettingsSchema.parse({ ...this.settings, ...patch })
    const prev = this.settings
    if (next.blocklistPath !== prev.blocklistPath) {
      // Load first: a file that cannot be read or parsed leaves the settings as they were.
      this.guard.blocklist = next.blocklistPath ? await loadBlocklist(next.blocklistPath) : null
      this.blocklistError = null
      this.disconnectRefused()
    }
    this.settings = next
    this.store.set('settings', next)
    if (next.maxDownloadSpeed !== prev.maxDownloadSpeed) this.client.throttleDownload(next.maxDownloadSpeed > 0 ? next.maxDownloadSpeed : -1)
    if (next.maxUploadSpeed !== prev.maxUploadSpeed) this.client.throttleUpload(next.maxUploadSpeed > 0 ? next.maxUploadSpeed : -1)
    if (next.maxConnections !== prev.maxConnections) this.client.maxConns = next.maxConnections
    const needsRestart = (['port', 'dht', 'pex', 'lsd', 'utp', 'encryption'] as const).some((k) => next[k] !== prev[k])
    if (needsRestart) await this.restartClient()
    this.emit('settings.changed', this.getSettings())
    return this.getSettings()
  }

  // ------------------------------------------------------------ snapshots

  private state (l: Live): TorrentState {
    if (l.error) return 'error'
    if (l.rec.paused) return 'paused'
    if (l.checking) return 'checking'
    if (!l.info) return 'metadata'
    if (!l.wt) return 'checking'
    return this.selectedProgress(l) >= 1 ? 'seeding' : 'downloading'
  }

  /** Verified fraction of the files not skipped, from the live bitfield or the saved one. */
  private selectedProgress (l: Live): number {
    const info = l.info
    if (!info) return 0
    let has: (i: number) => boolean
    if (l.wt?.bitfield) {
      const bf = l.wt.bitfield
      has = (i) => bf.get(i)
    } else if (l.rec.resume) {
      const bits = savedBits(l.rec.resume)
      has = (i) => getBit(bits, i)
    } else {
      return 0
    }
    let want = 0
    let have = 0
    info.files.forEach((f, i) => {
      if (l.rec.priorities?.[i] === 'skip') return
      want += f.length
      have += verifiedBytesIn(has, info.pieceLength, f.offset, f.offset + f.length)
    })
    return want === 0 ? 1 : have / want
  }

  summary (l: Live): TorrentSummary {
    const wt = l.wt
    const size = l.info?.length ?? 0
    const progress = this.selectedProgress(l)
    const downloadSpeed = wt ? Math.round(wt.downloadSpeed) : 0
    const uploadSpeed = wt ? Math.round(wt.uploadSpeed) : 0
    const uploaded = l.rec.uploaded + (wt ? wt.uploaded - l.sessionUp : 0)
    // received: payload bytes from peers this session. (wt.downloaded is the verified and in-progress
    // data on disk, which after a restart counted every resumed piece again.)
    const downloaded = l.rec.downloaded + (wt ? wt.received - l.sessionDown : 0)
    let wanted = size
    if (l.info && l.rec.priorities) wanted = l.info.files.reduce((s, f, i) => s + (l.rec.priorities![i] === 'skip' ? 0 : f.length), 0)
    const left = wanted * (1 - progress)
    const state = this.state(l)
    const seeds = wt ? wt.wires.filter((w) => w.isSeeder).length : 0
    return {
      infoHash: l.rec.infoHash,
      name: l.rec.name,
      magnetURI: l.rec.magnetURI,
      origin: l.rec.origin,
      state,
      error: l.error?.message ?? null,
      errorCode: l.error?.code ?? null,
      size,
      progress,
      checkProgress: l.checking ? (l.checking.total ? l.checking.hashed / l.checking.total : 0) : null,
      downloaded,
      uploaded,
      downloadSpeed,
      uploadSpeed,
      eta: state === 'downloading' && downloadSpeed > 0 ? Math.round(left / downloadSpeed) : null,
      // A share's ratio counts against its size (nothing was downloaded); a download's against what it got.
      ratio: size ? uploaded / (l.rec.origin === 'shared' ? size : Math.max(downloaded, 1)) : 0,
      peers: wt ? wt.wires.length - seeds : 0,
      seeds,
      savePath: l.rec.savePath,
      addedAt: l.rec.addedAt,
      completedAt: l.rec.completedAt,
      sequential: l.rec.sequential,
      private: l.info?.private ?? false,
      fileCount: l.info?.files.length ?? 0
    }
  }

  list (): TorrentSummary[] {
    return [...this.live.values()].map((l) => this.summary(l))
  }

  detail (infoHash: string): TorrentDetail {
    const l = this.get(infoHash)
    const wt = l.wt
    const files = wt && wt.ready
      ? fileSnapshots(wt, l.rec.priorities)
      : (l.info?.files ?? []).map((f, index) => ({ index, path: f.path, length: f.length, downloaded: 0, progress: 0, priority: l.rec.priorities?.[index] ?? 'normal' as FilePriority }))
    return {
      ...this.summary(l),
      ...l.meta,
      pieceLength: l.info?.pieceLength ?? 0,
      pieceCount: l.info?.pieceCount ?? 0,
      pieces: wt ? bitfieldBase64(wt) : (l.rec.resume?.bitfield ?? ''),
      files,
      trackers: l.trackers.list(l.wt?.announce ?? l.rec.announce),
      peerList: wt ? peerSnapshots(wt, l.rec.name) : [],
      bannedPeers: this.guard.bans(l.rec.infoHash)
    }
  }

  /**
   * The port trackers and the DHT are told: the router's mapped port when it differs from the
   * listening one (another device already held it); null: the listening port.
   */
  setAnnouncedPort (port: number | null): void {
    this.announcedPort = port
    const p = port ?? this.listeningPort
    if (this.client.torrentPort === p) return
    this.client.torrentPort = p // torrents added from now on announce it
    for (const l of this.live.values()) l.wt?.discovery?.updatePort(p) // re-announces
  }

  /** Where a torrent's file is on disk; without an index, the torrent itself (its folder or only file). */
  diskPath (infoHash: string, fileIndex?: number): string {
    const l = this.get(infoHash)
    const files = l.info ? this.diskFilesOf(l.rec, l.info) : []
    if (fileIndex !== undefined) {
      const f = files[fileIndex]
      if (!f) throw new EngineError('BAD_ARGUMENT', `File ${fileIndex} does not exist in "${l.rec.name}".`)
      return f.diskPath
    }
    if (files.length === 1) return files[0]!.diskPath
    // Files shared from several places have no common folder: show where the first one is.
    if (l.rec.filePaths && files[0]) return dirname(files[0].diskPath)
    return safeJoin(l.rec.savePath, l.rec.name)
  }

  peers (infoHash?: string): PeerSnapshot[] {
    const ls = infoHash ? [this.get(infoHash)] : [...this.live.values()]
    return ls.flatMap((l) => (l.wt ? peerSnapshots(l.wt, l.rec.name) : []))
  }

  /** Addresses banned this session for corrupt pieces (of one torrent, or all). */
  bannedPeers (infoHash?: string): BannedPeer[] {
    if (infoHash) this.get(infoHash)
    return this.guard.bans(infoHash?.toLowerCase())
  }

  /** Drops every connection to an address that is now banned or blocked. */
  private disconnectRefused (): void {
    for (const l of this.live.values()) {
      for (const w of [...(l.wt?.wires ?? [])]) {
        if (w.remoteAddress && this.guard.isRefused(w.remoteAddress)) w.destroy()
      }
    }
  }

  stats (): GlobalStats {
    let downloadSpeed = 0
    let uploadSpeed = 0
    let peers = 0
    for (const l of this.live.values()) {
      if (!l.wt) continue
      peers += l.wt.wires.length
      if (this.speedsStillZero(l, this.lastSent.get(l.rec.infoHash))) continue
      downloadSpeed += l.wt.downloadSpeed
      uploadSpeed += l.wt.uploadSpeed
    }
    return {
      downloadSpeed: Math.round(downloadSpeed),
      uploadSpeed: Math.round(uploadSpeed),
      peers,
      dhtNodes: this.client.dht?.nodes?.count() ?? 0,
      listeningPort: this.client.torrentPort,
      torrents: this.live.size,
      blocklistRanges: this.guard.blocklist?.size ?? 0,
      blocklistError: this.blocklistError,
      bannedPeers: this.guard.banCount
    }
  }

  // ------------------------------------------------------------ change events and persistence

  /** Without connections, speeds last seen at zero are still zero: no need to ask the speedometers. */
  private speedsStillZero (l: Live, prev: TorrentSummary | undefined): boolean {
    return (l.wt?.wires.length ?? 0) === 0 && prev?.downloadSpeed === 0 && prev.uploadSpeed === 0
  }

  /** Whether nothing in a torrent's summary can have moved since `prev` without a command. */
  private quiet (l: Live, prev: TorrentSummary): boolean {
    return !l.checking && !l.error && this.speedsStillZero(l, prev) && (prev.state === 'seeding' || prev.state === 'paused')
  }

  /** Emits what changed since the last tick: added, changed fields only, removed. */
  tick (periodic = false): void {
    if (this.closed) return
    const added: TorrentSummary[] = []
    const changed: Array<{ infoHash: string; patch: Partial<TorrentSummary> }> = []
    const seen = new Set<string>()
    const now = Date.now()
    const skipQuiet = periodic && this.periodicTicks++ % QUIET_EVERY !== 0
    for (const l of this.live.values()) {
      l.revival.tick(l.wt, l.rec.peers, this.client.dht, now)
      const prev = this.lastSent.get(l.rec.infoHash)
      if (skipQuiet && prev && this.quiet(l, prev)) {
        seen.add(l.rec.infoHash)
        continue
      }
      const s = this.summary(l)
      seen.add(s.infoHash)
      if (!prev) added.push(s)
      else {
        const patch: Partial<TorrentSummary> = {}
        let any = false
        for (const k of Object.keys(s) as Array<keyof TorrentSummary>) {
          if (s[k] !== prev[k]) { (patch as Record<string, unknown>)[k] = s[k]; any = true }
        }
        if (any) changed.push({ infoHash: s.infoHash, patch })
      }
      this.lastSent.set(s.infoHash, s)
      if (this.settings.seedRatioLimit > 0 && s.state === 'seeding' && s.ratio >= this.settings.seedRatioLimit && l.rec.origin === 'downloaded') {
        void this.pause([s.infoHash])
      }
    }
    const removed = [...this.lastSent.keys()].filter((h) => !seen.has(h))
    for (const h of removed) this.lastSent.delete(h)
    if (added.length || changed.length || removed.length) this.emit('torrents.changed', { added, changed, removed })
    const stats = this.stats()
    const ls = this.lastStats
    if (!ls || (Object.keys(stats) as Array<keyof GlobalStats>).some((k) => stats[k] !== ls[k])) {
      this.lastStats = stats
      this.emit('stats.changed', stats)
    }
  }

  private saveSoon (): void {
    if (this.saveTimer || this.closed) return
    this.saveTimer = setTimeout(() => { this.saveTimer = null; this.saveNow() }, 300)
    this.saveTimer.unref()
  }

  private saveNow (): void {
    const torrents = [...this.live.values()].map((l) => {
      const rec = { ...l.rec }
      if (l.wt) {
        rec.uploaded += l.wt.uploaded - l.sessionUp
        rec.downloaded += l.wt.received - l.sessionDown
      }
      return rec
    })
    this.store.set('version', STORE_VERSION)
    this.store.set('settings', this.settings)
    this.store.set('torrents', torrents)
  }

  /** Saves resume data of torrents that verified pieces since the last flush. */
  async flushResume (): Promise<void> {
    const dirty = [...this.live.values()].filter((l) => l.resumeDirty && l.wt?.bitfield && l.info)
    if (!dirty.length) return
    await Promise.all(dirty.map(async (l) => {
      l.resumeDirty = false
      const bits = new Uint8Array(l.wt!.bitfield!.buffer)
      l.rec.resume = await captureResume(this.diskFilesOf(l.rec, l.info!), bits)
    }))
    this.saveNow()
  }

  /** Stops every torrent (closing files and saving resume data) and the client. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const t of [this.tickTimer, this.flushTimer, this.saveTimer]) if (t) clearInterval(t)
    this.diskRetry.stop()
    this.hashPool.close()
    await Promise.all([...this.live.values()].map((l) => this.stop(l).catch(() => {})))
    this.saveNow()
    await new Promise<void>((r) => this.client.destroy(() => r()))
  }

  private assertOpen (): void {
    if (this.closed) throw new EngineError('INTERNAL', 'The engine is closed.')
  }
}

// ------------------------------------------------------------ helpers

/** A stopped torrent's saved bitfield, decoded once: summaries read it on every tick. */
const decodedBits = new WeakMap<ResumeData, Uint8Array>()
function savedBits (resume: ResumeData): Uint8Array {
  let bits = decodedBits.get(resume)
  if (!bits) {
    bits = Buffer.from(resume.bitfield, 'base64')
    decodedBits.set(resume, bits)
  }
  return bits
}

function piecesOf (torrentFileB64: string): Uint8Array {
  const bytes = Buffer.from(torrentFileB64, 'base64')
  // The info dict was checked when the record was created; re-decoding is cheaper than storing hashes twice.
  const decoded = bencode.decode(bytes) as { info: { pieces: Uint8Array } }
  return decoded.info.pieces
}

async function ensureWritableDir (dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true })
    await access(dir, fsConstants.W_OK)
  } catch (err) {
    throw fromFsError(err, dir, 'writing to')
  }
}
