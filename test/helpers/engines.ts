// Real engines on loopback for tests: own data folder each, no LSD/DHT unless asked.
import { join } from 'node:path'
import { tempDir } from './fixtures.ts'
import type { Settings } from '../../main/contract/contract.ts'
import { Engine, type PersistedState } from '../../main/engine/engine.ts'
import { JsonFileStore } from '../../main/store/store.ts'

/** tickMs: the periodic summary tick (200 ms in tests; a test that ticks by hand sets it out of the way). */
export interface TestEngineOptions { dataDir: string; settings?: Partial<Settings>; dhtBootstrap?: string[]; tracker?: boolean; tickMs?: number }

export async function openTestEngine (o: TestEngineOptions): Promise<Engine> {
  return Engine.open({
    store: new JsonFileStore<PersistedState>(o.dataDir),
    overrides: { port: 0, dht: false, lsd: false, upnp: false, downloadPath: join(o.dataDir, 'downloads'), ...(o.settings ?? {}) },
    ...(o.dhtBootstrap ? { dhtBootstrap: o.dhtBootstrap } : {}),
    ...(o.tracker === false ? { tracker: false } : {}),
    tickMs: o.tickMs ?? 200
  })
}

export interface EngineSet {
  dir: string
  /** Opens an engine with its own data folder `name` under dir. */
  open: (name: string, o?: Partial<TestEngineOptions>) => Promise<Engine>
  /** Closes one engine early (a peer leaving); the rest close at the end. */
  close: (e: Engine) => Promise<void>
}

/** Runs `fn` with a temp folder and engines that are all closed, and the folder removed, afterwards. */
export async function withEngines (fn: (ctx: EngineSet) => Promise<void>, prefix = 'shoal-test-'): Promise<void> {
  const d = tempDir(prefix)
  const engines = new Set<Engine>()
  try {
    await fn({
      dir: d.path,
      open: async (name, o = {}) => {
        const e = await openTestEngine({ dataDir: join(d.path, name), ...o })
        engines.add(e)
        return e
      },
      close: async (e) => { engines.delete(e); await e.close() }
    })
  } finally {
    await Promise.all([...engines].map((e) => e.close()))
    d.cleanup()
  }
}

/** For engine child processes: on SIGTERM or SIGINT stop `timer`, close the engine and exit (forced after 5 s). */
export function exitOnSignal (engine: Engine, timer: NodeJS.Timeout): void {
  const stop = () => {
    clearInterval(timer)
    void engine.close().then(() => process.exit(0), () => process.exit(1))
    setTimeout(() => process.exit(1), 5000).unref()
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
