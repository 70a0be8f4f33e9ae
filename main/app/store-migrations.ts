// The app's stored document (the engine's PersistedState) and its versioned migrations. electron-
// store runs MIGRATIONS by app version; each step also bumps the document's own `version`, which
// the CLI's JsonFileStore shares.
import { SettingsSchema, type Settings } from '../contract/contract.ts'
import type { PersistedState } from '../engine/engine.ts'
import { defaultSettings } from '../engine/settings.ts'

/** The members of an electron-store (or any key-value store) a migration uses. */
export interface MigratableStore {
  get(key: string): unknown
  set(key: string, value: unknown): void
}

export const DOCUMENT_VERSION = 1

export function appDefaults (downloadPath: string): PersistedState {
  return { version: DOCUMENT_VERSION, settings: { ...defaultSettings(), downloadPath }, torrents: [] }
}

/** Keeps every stored setting that is still valid; anything missing or invalid takes its default. */
export function repairSettings (stored: unknown, defaults: Settings): Settings {
  const out: Record<string, unknown> = { ...defaults }
  if (stored && typeof stored === 'object') {
    const shape = SettingsSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>
    for (const [key, value] of Object.entries(stored)) {
      if (key in shape && shape[key]!.safeParse(value).success) out[key] = value
    }
  }
  return SettingsSchema.parse(out)
}

/** 0 -> 1: documents written before the version field (pre-release builds) get complete settings and a torrent list. */
export function migrateToV1 (store: MigratableStore, downloadPath: string): void {
  const version = store.get('version')
  if (typeof version === 'number' && version >= 1) return
  store.set('settings', repairSettings(store.get('settings'), { ...defaultSettings(), downloadPath }))
  const torrents = store.get('torrents')
  store.set('torrents', Array.isArray(torrents) ? torrents : [])
  store.set('version', 1)
}

/** electron-store's `migrations` option: app version (semver) -> step. */
export function migrations (downloadPath: string): Record<string, (store: MigratableStore) => void> {
  return {
    '0.1.0': (store) => migrateToV1(store, downloadPath)
  }
}
