// Real engines on loopback for tests: own data folder each, no LSD/DHT unless asked.
import { join } from 'node:path'
import type { Settings } from '../../main/contract/contract.ts'
import { Engine, type PersistedState } from '../../main/engine/engine.ts'
import { JsonFileStore } from '../../main/store/store.ts'

export interface TestEngineOptions { dataDir: string; settings?: Partial<Settings>; dhtBootstrap?: string[]; tracker?: boolean }

export async function openTestEngine (o: TestEngineOptions): Promise<Engine> {
  return Engine.open({
    store: new JsonFileStore<PersistedState>(o.dataDir),
    overrides: { port: 0, dht: false, lsd: false, upnp: false, downloadPath: join(o.dataDir, 'downloads'), ...(o.settings ?? {}) },
    ...(o.dhtBootstrap ? { dhtBootstrap: o.dhtBootstrap } : {}),
    ...(o.tracker === false ? { tracker: false } : {}),
    tickMs: 200
  })
}
