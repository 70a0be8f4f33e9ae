// The engine host: every contract call mapped to the engine, arguments validated with the
// contract's schemas. Electron's IPC and the WebSocket server are thin transports over this, so
// both speak exactly the same contract and are tested by the same suite.
import type { z } from 'zod'
import {
  argsSchema, COMMAND_NAMES, QUERY_NAMES, EVENT_NAMES,
  type CallName, type CallResult, type Commands, type Queries, type EventName, type EventPayloads, type NatStatus, type Capabilities
} from '../contract/contract.ts'
import type { Engine } from '../engine/engine.ts'
import { EngineError } from '../engine/errors.ts'

/** What the host needs from main/nat's NatService. */
export interface NatProvider {
  status(): NatStatus
  refresh(): Promise<NatStatus>
  on(event: 'changed', listener: (s: NatStatus) => void): unknown
  off(event: 'changed', listener: (s: NatStatus) => void): unknown
}

/** Desktop-only operations; absent in `shoal serve`. */
export interface DesktopAdapter {
  openPath(path: string): Promise<void>
  revealPath(path: string): Promise<void>
  pickTorrentFiles(): Promise<string[]>
  pickShareFolder(): Promise<string[]>
}

export interface HostDeps {
  engine: Engine
  nat?: NatProvider | null
  desktop?: DesktopAdapter | null
  transport: Capabilities['transport']
  version: string
}

type Parsed<E> = E extends { args: infer S extends z.ZodType } ? z.output<S> : never
type Handlers = { [N in keyof Commands]: (a: Parsed<Commands[N]>) => Promise<CallResult<N>> | CallResult<N> } &
  { [N in keyof Queries]: (a: Parsed<Queries[N]>) => Promise<CallResult<N>> | CallResult<N> }

export type EventListener = <E extends EventName>(event: E, payload: EventPayloads[E]) => void

export interface Host {
  /** Validates and runs a call. Throws EngineError (BAD_ARGUMENT for unknown names or bad args). */
  call(name: string, args: unknown): Promise<unknown>
  subscribe(listener: EventListener): () => void
}

const CALLS = new Set<string>([...COMMAND_NAMES, ...QUERY_NAMES])

export function isCallName (name: unknown): name is CallName {
  return typeof name === 'string' && CALLS.has(name)
}

function noDesktop (): never {
  throw new EngineError('UNSUPPORTED', 'This needs the desktop app: the browser UI cannot open files on your computer.')
}

function unknownNat (port: number): NatStatus {
  return {
    verdict: 'Reachability not checked yet',
    reachable: null,
    listeningPort: port,
    upnp: { available: false, igdVersion: null, externalAddress: null, mappings: [], error: null },
    natpmp: { available: false, externalAddress: null },
    nat: { mapping: 'unknown', filtering: 'unknown', type: 'unknown', publicAddress: null, server: null, error: null },
    checkedAt: null
  }
}

export function createHost (deps: HostDeps): Host {
  const { engine, nat, desktop } = deps

  const handlers: Handlers = {
    'torrent.add': async (a) => {
      const t = await engine.add(a.source, { ...(a.savePath ? { savePath: a.savePath } : {}), ...(a.paused !== undefined ? { paused: a.paused } : {}), ...(a.selectFiles ? { selectFiles: a.selectFiles } : {}) })
      return { infoHash: t.infoHash }
    },
    'torrent.share': (a) => engine.share(a.paths, a.options ?? {}),
    'torrent.pause': async (a) => { await engine.pause(a.infoHashes); return null },
    'torrent.resume': async (a) => { await engine.resume(a.infoHashes); return null },
    'torrent.remove': async (a) => { await engine.remove(a.infoHashes, a.deleteData); return null },
    'torrent.recheck': async (a) => { await engine.recheck(a.infoHash); return null },
    'torrent.setFilePriorities': (a) => { engine.setFilePriorities(a.infoHash, a.files); return null },
    'torrent.setSequential': (a) => { engine.setSequential(a.infoHash, a.sequential); return null },
    'torrent.exportTorrent': (a) => {
      const t = engine.exportTorrent(a.infoHash)
      return { name: t.name, base64: Buffer.from(t.bytes).toString('base64') }
    },
    'settings.update': (a) => engine.updateSettings(a),
    'nat.refresh': async () => (nat ? nat.refresh() : unknownNat(engine.listeningPort)),
    'shell.openPath': async (a) => {
      if (!desktop) noDesktop()
      const p = engine.diskPath(a.infoHash, a.fileIndex)
      await (a.reveal ? desktop.revealPath(p) : desktop.openPath(p))
      return null
    },
    'shell.pickTorrentFiles': () => (desktop ? desktop.pickTorrentFiles() : noDesktop()),
    'shell.pickShareFolder': () => (desktop ? desktop.pickShareFolder() : noDesktop()),
    'torrents.list': () => engine.list(),
    'torrents.detail': (a) => engine.detail(a.infoHash),
    'peers.list': (a) => engine.peers(a.infoHash),
    'peers.banned': (a) => engine.bannedPeers(a.infoHash),
    'stats.get': () => engine.stats(),
    'settings.get': () => engine.getSettings(),
    'nat.status': () => (nat ? nat.status() : unknownNat(engine.listeningPort)),
    'app.capabilities': () => ({ transport: deps.transport, desktop: !!desktop, version: deps.version })
  }

  return {
    async call (name, rawArgs) {
      if (!isCallName(name)) {
        // Never String() an unknown value: a crafted object's toString can throw (or lie).
        throw new EngineError('BAD_ARGUMENT', typeof name === 'string' ? `Unknown call '${name.slice(0, 100)}'.` : `A call name is a string, not ${name === null ? 'null' : typeof name}.`)
      }
      const parsed = argsSchema(name).safeParse(rawArgs ?? {})
      if (!parsed.success) {
        const issue = parsed.error.issues[0]
        const where = issue?.path.length ? ` at ${issue.path.join('.')}` : ''
        throw new EngineError('BAD_ARGUMENT', `Invalid arguments for ${name}${where}: ${issue?.message ?? 'rejected'}.`)
      }
      const handler = handlers[name] as (a: unknown) => unknown
      return await handler(parsed.data)
    },
    subscribe (listener) {
      const offs: Array<() => void> = []
      for (const event of EVENT_NAMES) {
        if (event === 'nat.changed') {
          if (!nat) continue
          const fn = (s: NatStatus) => listener('nat.changed', s)
          nat.on('changed', fn)
          offs.push(() => nat.off('changed', fn))
          continue
        }
        // The engine's event map is the contract's (minus nat.changed); one untyped edge here.
        const emitter = engine as unknown as { on(e: string, f: (p: unknown) => void): void; off(e: string, f: (p: unknown) => void): void }
        const fn = (payload: unknown) => listener(event, payload as EventPayloads[typeof event])
        emitter.on(event, fn)
        offs.push(() => emitter.off(event, fn))
      }
      return () => offs.forEach((off) => off())
    }
  }
}
