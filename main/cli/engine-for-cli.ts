// Opens an engine for one CLI run: the data folder's settings, CLI flags on top, no stored
// torrent started except the one the command asks for.
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Settings } from '../contract/contract.ts'
import { Engine, type PersistedState } from '../engine/engine.ts'
import { JsonFileStore } from '../store/store.ts'
import { EngineError } from '../engine/errors.ts'

export function defaultDataDir (): string {
  return resolve(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'shoal')
}

export interface CommonFlags { data?: string | undefined; port?: number | undefined; noDht?: boolean | undefined; noLsd?: boolean | undefined; noUtp?: boolean | undefined; out?: string | undefined }

export async function openCliEngine (f: CommonFlags, extra: { dhtBootstrap?: string[] } = {}): Promise<Engine> {
  const overrides: Partial<Settings> = {}
  if (f.port !== undefined) overrides.port = f.port
  if (f.noDht) overrides.dht = false
  if (f.noLsd) overrides.lsd = false
  if (f.noUtp) overrides.utp = false
  if (f.out) overrides.downloadPath = resolve(f.out)
  return Engine.open({
    store: new JsonFileStore<PersistedState>(resolve(f.data ?? defaultDataDir())),
    overrides,
    autoStart: false,
    ...(extra.dhtBootstrap ? { dhtBootstrap: extra.dhtBootstrap } : {})
  })
}

/** Resolves on the first SIGINT or SIGTERM. */
/**
 * For a torrent this data folder already holds (a DUPLICATE error from add or share): resumes the
 * stored one, whose resume data spares a re-hash, and returns its info hash. Rethrows anything else.
 */
export async function resumeKnown (engine: Engine, err: unknown, peers: string[] = []): Promise<string> {
  if (!(err instanceof EngineError && err.code === 'DUPLICATE' && err.infoHash)) throw err
  for (const p of peers) engine.addPeer(err.infoHash, p)
  await engine.resume([err.infoHash])
  return err.infoHash
}

export function untilSignal (): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => { process.off('SIGINT', on); process.off('SIGTERM', on); resolve(sig) }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  })
}

export const COMMON_OPTIONS = {
  data: { type: 'string' },
  port: { type: 'string' },
  'no-dht': { type: 'boolean' },
  'no-lsd': { type: 'boolean' },
  'no-utp': { type: 'boolean' },
  'dht-bootstrap': { type: 'string', multiple: true },
  announce: { type: 'string', multiple: true }
} as const
