// Minimal types for untyped dependencies: only what Shoal uses.

declare module 'bencode' {
  const bencode: {
    encode(value: unknown): Uint8Array
    decode(data: Uint8Array, start?: number, end?: number, encoding?: string): unknown
    byteLength(value: unknown): number
  }
  export default bencode
}

declare module 'magnet-uri' {
  export interface MagnetData {
    infoHash?: string
    infoHashV2?: string
    xt?: string | string[]
    dn?: string | string[]
    name?: string | string[]
    tr?: string | string[]
    announce?: string[]
    urlList?: string[]
    peerAddresses?: string[]
    so?: number[]
  }
  function magnet(uri: string): MagnetData
  export function encode(data: MagnetData): string
  export default magnet
}

declare module 'bittorrent-peerid' {
  export default function peerid(id: string | Uint8Array): { client: string; version?: string }
}

declare module 'fs-chunk-store' {
  export default class FsChunkStore {
    constructor(chunkLength: number, opts?: Record<string, unknown>)
    files: Array<{ path: string; length: number; offset: number }>
  }
}

declare module 'torrent-piece' {
  export default class Piece {
    constructor(length: number)
    /** Shoal patch: a flushed buffer that nothing refers to any more, for the next piece of its length. */
    static recycle(buf: Uint8Array): void
    static BLOCK_LENGTH: number
    /** Bytes not received yet. */
    missing: number
    reserve(): number
    /** The block received at `i`, undefined before it arrives. */
    get(i: number): Uint8Array | undefined | null
    set(i: number, data: Uint8Array, source: unknown): boolean
    flush(): Uint8Array | null
  }
}

declare module 'bittorrent-tracker' {
  import type { EventEmitter } from 'node:events'
  import type { Server as HttpServer } from 'node:http'
  import type { Socket } from 'node:dgram'
  export class Server extends EventEmitter {
    constructor(opts?: { udp?: boolean; http?: boolean; ws?: boolean; stats?: boolean; trustProxy?: boolean; interval?: number; filter?: (infoHash: string, params: unknown, cb: (err: Error | null) => void) => void })
    listen(port: number, hostname: string | { udp?: string; udp6?: string; http?: string }, cb?: () => void): void
    close(cb?: () => void): void
    http: HttpServer | null
    udp4: Socket | null
    torrents: Record<string, { peers: { keys: string[] } }>
  }
  const Client: unknown
  export default Client
}

declare module 'bittorrent-dht' {
  import type { EventEmitter } from 'node:events'
  export default class DHT extends EventEmitter {
    constructor(opts?: { bootstrap?: string[] | false; host?: string | false })
    listen(port: number, host: string, cb?: () => void): void
    address(): { address: string; port: number; family: string }
    destroy(cb?: () => void): void
    nodes: { count(): number }
    announce(infoHash: string, port: number, cb?: (err: Error | null) => void): void
  }
}

declare module 'webtorrent' {
  import type { EventEmitter } from 'node:events'

  export interface WtBitfield { get(index: number): boolean; set(index: number, value?: boolean): void; buffer: Uint8Array }

  export interface WtWire extends EventEmitter {
    peerId: string | null
    type: string
    remoteAddress?: string
    remotePort?: number
    amChoking: boolean
    amInterested: boolean
    peerChoking: boolean
    peerInterested: boolean
    isSeeder?: boolean
    downloaded: number
    uploaded: number
    downloadSpeed(): number
    uploadSpeed(): number
    peerPieces: WtBitfield
    destroyed: boolean
    readonly _encryptionMethod?: number
    destroy(): void
  }

  export interface WtFile {
    name: string
    path: string
    length: number
    offset: number
    downloaded: number
    progress: number
    done: boolean
    _startPiece: number
    _endPiece: number
    select(priority?: number): void
    deselect(): void
  }

  export interface WtTorrent extends EventEmitter {
    infoHash: string
    magnetURI: string
    name: string
    length: number
    files: WtFile[]
    pieces: unknown[]
    pieceLength: number
    lastPieceLength: number
    bitfield: WtBitfield | null
    info: Record<string, unknown> | null
    torrentFile: Uint8Array | null
    announce: string[]
    private: boolean
    comment?: string
    createdBy?: string
    progress: number
    downloaded: number
    uploaded: number
    received: number
    downloadSpeed: number
    uploadSpeed: number
    numPeers: number
    wires: WtWire[]
    ready: boolean
    done: boolean
    paused: boolean
    destroyed: boolean
    path: string
    strategy: 'rarest' | 'sequential'
    discovery: { tracker?: { _trackers?: Array<{ announceUrl: string; destroyed?: boolean }> } | null; updatePort: (port: number) => void } | null
    select(start: number, end: number, priority?: number | boolean, notify?: () => void): void
    deselect(start: number, end: number): void
    addPeer(addr: string): boolean
    destroy(opts?: { destroyStore?: boolean }, cb?: (err?: Error | null) => void): void
  }

  export interface WtAddOptions {
    path?: string
    announce?: string[]
    bitfield?: Uint8Array
    trustBitfield?: boolean
    store?: unknown
    storeOpts?: Record<string, unknown>
    storeCacheSlots?: number
    strategy?: 'rarest' | 'sequential'
    deselect?: boolean
    private?: boolean
    skipVerify?: boolean
  }

  export interface WtOptions {
    dht?: boolean | Record<string, unknown>
    tracker?: boolean | Record<string, unknown>
    lsd?: boolean
    utPex?: boolean
    utp?: boolean
    natUpnp?: boolean
    natPmp?: boolean
    torrentPort?: number
    dhtPort?: number
    maxConns?: number
    secure?: number
    downloadLimit?: number
    uploadLimit?: number
    webSeeds?: boolean
    blocklist?: string | string[]
  }

  export default class WebTorrent extends EventEmitter {
    constructor(opts?: WtOptions)
    torrents: WtTorrent[]
    torrentPort: number
    dhtPort: number
    maxConns: number
    utp: boolean
    dht: { nodes?: { count(): number } } | null
    listening: boolean
    destroyed: boolean
    add(id: string | Uint8Array, opts?: WtAddOptions, onTorrent?: (t: WtTorrent) => void): WtTorrent
    get(id: string): Promise<WtTorrent | null>
    throttleDownload(rate: number): void
    throttleUpload(rate: number): void
    address(): { address: string; family: string; port: number } | null
    destroy(cb?: (err?: Error | null) => void): void
  }
}

declare module 'bittorrent-protocol' {
  import type { EventEmitter } from 'node:events'
  /** The peer wire; constructed directly only by main/engine/mse-dh.ts (to reach the MSE prototype) and tests. */
  export default class Wire extends EventEmitter {
    /** Whether Node's crypto has RC4 (OpenSSL's legacy provider); otherwise the wire uses its own JS RC4. */
    static nativeRC4: boolean
    constructor(type?: string, peEnabled?: number)
    handshake(infoHash: string, peerId: string, extensions?: { dht?: boolean; fast?: boolean }): void
    request(index: number, offset: number, length: number, cb: (err: Error | null, block?: Uint8Array) => void): void
    have(index: number): void
    write(data: Uint8Array): boolean
    destroy(): void
    peerPieces: { get(index: number): boolean }
    /** Shoal's patch: webtorrent's direct reads pass socket data here, set while `data` is a view into a reused buffer. */
    _shoalVolatile: boolean
    /** The MSE encryptor once a handshake is encrypted (tests stand in their own cipher). */
    _encryptor: { decrypt(data: Uint8Array): Uint8Array; encrypt(data: Uint8Array): Uint8Array } | null
    _write(data: Uint8Array, cb: (err: Error | null) => void): void
  }
}
