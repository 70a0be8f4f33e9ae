// The bridge contract: every command, query and event between the engine host (Electron main or
// `shoal serve`) and the UI. Main registers handlers from it and validates arguments with these
// schemas; the preload builds its allowlist from it; the renderer and the WebSocket transport
// derive their types from it. The renderer may import this file only with `import type`.
import { z } from 'zod'

// ---------------------------------------------------------------- data shapes

export type TorrentState =
  | 'metadata' // waiting for the info dictionary from peers
  | 'checking' // hashing existing data
  | 'downloading'
  | 'seeding'
  | 'paused'
  | 'error'

export type FilePriority = 'skip' | 'low' | 'normal' | 'high'
export type Transport = 'tcp' | 'utp' | 'webrtc' | 'webseed'
export type Origin = 'shared' | 'downloaded'

export interface TorrentSummary {
  infoHash: string
  name: string
  magnetURI: string
  origin: Origin
  state: TorrentState
  /** Why the torrent is in 'error' (a clear sentence for the user). */
  error: string | null
  errorCode: ErrorCode | null
  /** Total size in bytes; 0 until metadata is known. */
  size: number
  /** Verified fraction of the selected files, 0..1. */
  progress: number
  /** Fraction of existing data hashed while state is 'checking', else null. */
  checkProgress: number | null
  downloaded: number
  uploaded: number
  downloadSpeed: number
  uploadSpeed: number
  /** Seconds to completion at the current speed; null when unknown or done. */
  eta: number | null
  ratio: number
  peers: number
  seeds: number
  savePath: string
  addedAt: number
  completedAt: number | null
  sequential: boolean
  private: boolean
  fileCount: number
}

export interface FileSnapshot {
  index: number
  /** Path inside the torrent, '/'-separated. */
  path: string
  length: number
  downloaded: number
  progress: number
  priority: FilePriority
}

export interface PeerFlags {
  /** The peer chokes us: we cannot download from it now. */
  choked: boolean
  /** We want pieces the peer has. */
  interested: boolean
  /** We choke the peer. */
  peerChoked: boolean
  peerInterested: boolean
  encrypted: boolean
  incoming: boolean
}

export interface PeerSnapshot {
  /** Unique per torrent: "ip:port" or a WebRTC id. */
  id: string
  infoHash: string
  torrentName: string
  address: string
  port: number
  client: string
  transport: Transport
  flags: PeerFlags
  downloadSpeed: number
  uploadSpeed: number
  downloaded: number
  uploaded: number
  /** The peer's own completion, 0..1. */
  progress: number
}

/** A peer address Shoal refuses for the rest of the session: it sent pieces that failed their hash check. */
export interface BannedPeer {
  /** The banned IP address: every connection from or to it is refused, in every torrent. */
  address: string
  /** The port it was connected on when it was banned. */
  port: number
  /** The torrent it corrupted. */
  infoHash: string
  torrentName: string
  client: string
  /** Pieces that failed their hash check because of blocks this address sent. */
  corruptPieces: number
  /** For the user, e.g. "Banned: sent 3 corrupt pieces". */
  reason: string
  bannedAt: number
}

export type TrackerStatus = 'working' | 'updating' | 'error' | 'idle'
export interface TrackerSnapshot {
  url: string
  status: TrackerStatus
  message: string | null
  peers: number | null
  lastAnnounce: number | null
}

export interface TorrentDetail extends TorrentSummary {
  comment: string | null
  createdBy: string | null
  pieceLength: number
  pieceCount: number
  /** Verified pieces, one bit each, most significant bit first, base64. */
  pieces: string
  files: FileSnapshot[]
  trackers: TrackerSnapshot[]
  peerList: PeerSnapshot[]
  /** Addresses banned for sending this torrent corrupt pieces. */
  bannedPeers: BannedPeer[]
}

export interface GlobalStats {
  downloadSpeed: number
  uploadSpeed: number
  peers: number
  dhtNodes: number
  listeningPort: number
  torrents: number
  /** IP ranges in the loaded blocklist (Settings.blocklistPath); 0 when none. */
  blocklistRanges: number
  /** Why the blocklist in Settings could not be loaded at startup, else null. */
  blocklistError: string | null
  /** Addresses banned this session for sending corrupt pieces. */
  bannedPeers: number
}

export type EncryptionMode = 'prefer' | 'require' | 'disable'
export type Theme = 'system' | 'light' | 'dark'
export type Language = 'en' | 'zh-TW' | 'zh-CN'

export const SettingsSchema = z.object({
  downloadPath: z.string().min(1),
  /** Listening port for TCP and uTP; 0 picks a free one. */
  port: z.number().int().min(0).max(65535),
  /** Bytes per second; 0 is unlimited. */
  maxDownloadSpeed: z.number().int().min(0),
  maxUploadSpeed: z.number().int().min(0),
  maxConnections: z.number().int().min(1).max(10000),
  dht: z.boolean(),
  pex: z.boolean(),
  lsd: z.boolean(),
  utp: z.boolean(),
  /** 'require' refuses every TCP/uTP peer that does not encrypt (MSE/PE, RC4), in both directions. */
  encryption: z.enum(['prefer', 'require', 'disable']),
  /** A blocklist file (P2P/PeerGuardian "name:1.2.3.4-1.2.3.9" lines, plain ranges, single addresses or
   *  CIDR blocks; gzip allowed). Peers in it are never dialled and refused when they dial in. '' for none. */
  blocklistPath: z.string().max(4096),
  upnp: z.boolean(),
  /** Stop seeding a finished torrent at this upload ratio; 0 seeds forever. */
  seedRatioLimit: z.number().min(0),
  stunServers: z.array(z.string().regex(/^[^\s:]+(:\d{1,5})?$/)).max(16),
  startMinimised: z.boolean(),
  theme: z.enum(['system', 'light', 'dark']),
  language: z.enum(['en', 'zh-TW', 'zh-CN'])
})
export type Settings = z.infer<typeof SettingsSchema>

export type NatMapping = 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent' | 'unknown'
export type NatType = 'open' | 'full-cone' | 'restricted-cone' | 'port-restricted-cone' | 'symmetric' | 'udp-blocked' | 'unknown'
export interface PortMapping { protocol: 'TCP' | 'UDP'; internalPort: number; externalPort: number; method: 'upnp' | 'natpmp'; expiresAt: number | null }
export interface NatStatus {
  /** One line for the UI, e.g. "Reachable: port 51413 mapped by UPnP". */
  verdict: string
  reachable: boolean | null
  listeningPort: number
  upnp: { available: boolean; igdVersion: number | null; externalAddress: string | null; mappings: PortMapping[]; error: string | null }
  natpmp: { available: boolean; externalAddress: string | null }
  nat: { mapping: NatMapping; filtering: NatMapping; type: NatType; publicAddress: string | null; server: string | null; error: string | null }
  checkedAt: number | null
}

export interface ShareProgress {
  jobId: string
  name: string
  /** 'hashing' while pieces are hashed; 'done' or 'error' at the end. */
  phase: 'scanning' | 'hashing' | 'done' | 'error'
  hashedBytes: number
  totalBytes: number
  infoHash: string | null
  error: string | null
}

export interface Capabilities {
  transport: 'ipc' | 'websocket'
  /** Whether the host can open files and folders on the user's desktop. */
  desktop: boolean
  version: string
}

// ---------------------------------------------------------------- errors

export const ERROR_CODES = [
  'BAD_MAGNET', 'BAD_TORRENT', 'UNSAFE_PATH', 'PATH_UNREADABLE', 'DISK_FULL', 'DUPLICATE',
  'NOT_FOUND', 'BAD_ARGUMENT', 'UNSUPPORTED', 'FORBIDDEN', 'INTERNAL'
] as const
export type ErrorCode = typeof ERROR_CODES[number]

/** What every failed call returns across the bridge. */
export interface BridgeError { code: ErrorCode; message: string }

// ---------------------------------------------------------------- argument schemas

const InfoHash = z.string().regex(/^[0-9a-f]{40}$/, 'an info hash is 40 lowercase hex characters')
const InfoHashes = z.array(InfoHash).min(1).max(10000)
const PathArg = z.string().min(1).max(4096)
const Priority = z.enum(['skip', 'low', 'normal', 'high'])

export const AddSourceSchema = z.union([
  z.object({ kind: z.literal('uri'), uri: z.string().min(1).max(65536) }),
  z.object({ kind: z.literal('torrentFile'), path: PathArg }),
  /** Raw .torrent bytes, base64 (drag and drop in a browser). */
  z.object({ kind: z.literal('torrentBytes'), base64: z.string().min(1).max(64 * 1024 * 1024) })
])
export type AddSource = z.infer<typeof AddSourceSchema>

export const CreateOptionsSchema = z.object({
  name: z.string().min(1).max(255).optional(),
  announce: z.array(z.string().url()).max(64).optional(),
  private: z.boolean().optional(),
  comment: z.string().max(4096).optional(),
  /** Bytes, a power of two from 16 KiB to 64 MiB. */
  pieceLength: z.number().int().min(16384).max(64 * 1024 * 1024).refine((n) => (n & (n - 1)) === 0, 'a power of two').optional()
})
export type CreateOptions = z.infer<typeof CreateOptionsSchema>

// ---------------------------------------------------------------- the contract

/** A typed marker for a result type: schemas validate arguments; results are trusted from main. */
function returns<T> (): T { return undefined as unknown as T }

export const commands = {
  'torrent.add': {
    args: z.object({ source: AddSourceSchema, savePath: PathArg.optional(), paused: z.boolean().optional(), selectFiles: z.array(z.number().int().min(0)).optional() }),
    result: returns<{ infoHash: string }>()
  },
  'torrent.share': {
    args: z.object({ paths: z.array(PathArg).min(1).max(1000), options: CreateOptionsSchema.optional() }),
    result: returns<{ jobId: string; infoHash: string; magnetURI: string }>()
  },
  'torrent.pause': { args: z.object({ infoHashes: InfoHashes }), result: returns<null>() },
  'torrent.resume': { args: z.object({ infoHashes: InfoHashes }), result: returns<null>() },
  'torrent.remove': { args: z.object({ infoHashes: InfoHashes, deleteData: z.boolean() }), result: returns<null>() },
  'torrent.recheck': { args: z.object({ infoHash: InfoHash }), result: returns<null>() },
  'torrent.setFilePriorities': {
    args: z.object({ infoHash: InfoHash, files: z.array(z.object({ index: z.number().int().min(0), priority: Priority })).min(1) }),
    result: returns<null>()
  },
  'torrent.setSequential': { args: z.object({ infoHash: InfoHash, sequential: z.boolean() }), result: returns<null>() },
  'torrent.exportTorrent': { args: z.object({ infoHash: InfoHash }), result: returns<{ name: string; base64: string }>() },
  'settings.update': { args: SettingsSchema.partial(), result: returns<Settings>() },
  'nat.refresh': { args: z.object({}), result: returns<NatStatus>() },
  /** Desktop only (Capabilities.desktop): open a downloaded file or reveal it in its folder. */
  'shell.openPath': { args: z.object({ infoHash: InfoHash, fileIndex: z.number().int().min(0).optional(), reveal: z.boolean() }), result: returns<null>() },
  /** Desktop only: native pickers. Return the chosen paths, or [] when cancelled. */
  'shell.pickTorrentFiles': { args: z.object({}), result: returns<string[]>() },
  'shell.pickShareFolder': { args: z.object({}), result: returns<string[]>() }
} as const

export const queries = {
  'torrents.list': { args: z.object({}), result: returns<TorrentSummary[]>() },
  'torrents.detail': { args: z.object({ infoHash: InfoHash }), result: returns<TorrentDetail>() },
  'peers.list': { args: z.object({ infoHash: InfoHash.optional() }), result: returns<PeerSnapshot[]>() },
  /** Addresses banned this session for sending corrupt pieces (of one torrent, or all). */
  'peers.banned': { args: z.object({ infoHash: InfoHash.optional() }), result: returns<BannedPeer[]>() },
  'stats.get': { args: z.object({}), result: returns<GlobalStats>() },
  'settings.get': { args: z.object({}), result: returns<Settings>() },
  'nat.status': { args: z.object({}), result: returns<NatStatus>() },
  'app.capabilities': { args: z.object({}), result: returns<Capabilities>() }
} as const

/** Events carry changes, never the whole state; `torrents.list` gives a full snapshot after a reload. */
export interface EventPayloads {
  /** Batched: at most a few per second, each entry only the fields that changed. */
  'torrents.changed': { added: TorrentSummary[]; changed: Array<{ infoHash: string; patch: Partial<TorrentSummary> }>; removed: string[] }
  'torrent.done': { infoHash: string; name: string }
  'share.progress': ShareProgress
  'stats.changed': GlobalStats
  'settings.changed': Settings
  'nat.changed': NatStatus
}
export const events = {
  'torrents.changed': returns<EventPayloads['torrents.changed']>(),
  'torrent.done': returns<EventPayloads['torrent.done']>(),
  'share.progress': returns<EventPayloads['share.progress']>(),
  'stats.changed': returns<EventPayloads['stats.changed']>(),
  'settings.changed': returns<EventPayloads['settings.changed']>(),
  'nat.changed': returns<EventPayloads['nat.changed']>()
} as const

export type Commands = typeof commands
export type Queries = typeof queries
export type CommandName = keyof Commands
export type QueryName = keyof Queries
export type CallName = CommandName | QueryName
export type EventName = keyof EventPayloads
type Entry<N extends CallName> = N extends CommandName ? Commands[N] : N extends QueryName ? Queries[N] : never
export type CallArgs<N extends CallName> = z.input<Entry<N>['args']>
export type CallResult<N extends CallName> = Entry<N>['result']

export const COMMAND_NAMES = Object.keys(commands) as CommandName[]
export const QUERY_NAMES = Object.keys(queries) as QueryName[]
export const EVENT_NAMES = Object.keys(events) as EventName[]
export function argsSchema (name: CallName): z.ZodType {
  return name in commands ? commands[name as CommandName].args : queries[name as QueryName].args
}

/** The API the UI sees, the same over IPC and WebSocket. */
export interface ShoalApi {
  call<N extends CallName>(name: N, args: CallArgs<N>): Promise<CallResult<N>>
  on<E extends EventName>(event: E, listener: (payload: EventPayloads[E]) => void): () => void
}

/** IPC channel names, derived from the contract (the preload's allowlist). */
export const IPC_CALL_CHANNEL = 'shoal:call'
export const IPC_EVENT_CHANNEL = 'shoal:event'

/** What the preload exposes as `window.shoal` in the desktop app. */
export interface DesktopBridge extends ShoalApi {
  /** The file-system path of a dropped or picked File (Electron's webUtils.getPathForFile). */
  pathForFile(file: Blob): string
}
export const PRELOAD_GLOBAL = 'shoal'
