// The app's persistent document in userData/config.json: electron-store with defaults and
// versioned migrations. The engine sees it only through the KeyValueStore interface.
import Store from 'electron-store'
import type { PersistedState } from '../engine/engine.ts'
import type { KeyValueStore } from '../store/store.ts'
import { appDefaults, migrations } from './store-migrations.ts'

export function openAppStore (downloadPath: string): KeyValueStore<PersistedState> {
  const store = new Store<PersistedState>({
    name: 'config',
    defaults: appDefaults(downloadPath),
    migrations: migrations(downloadPath),
    // A damaged file is kept for the user rather than silently emptied.
    clearInvalidConfig: false
  })
  return {
    get: (key) => store.get(key as string) as PersistedState[typeof key] | undefined,
    set: (key, value) => store.set(key as string, value)
  }
}
