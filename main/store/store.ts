// Persistence behind one small interface. The Electron app passes an electron-store instance
// (it has exactly this get/set shape); the CLI and `shoal serve` use JsonFileStore, which keeps the
// same JSON document on disk, so a data folder moves between them unchanged.
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync, copyFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

export interface KeyValueStore<T extends Record<string, unknown>> {
  get<K extends keyof T>(key: K): T[K] | undefined
  set<K extends keyof T>(key: K, value: T[K]): void
}

/** The file name JsonFileStore uses inside a data folder (electron-store's default name too). */
export const STORE_FILE = 'config.json'

export class JsonFileStore<T extends Record<string, unknown>> implements KeyValueStore<T> {
  readonly path: string
  private data: Partial<T>

  constructor (dataDir: string, fileName = STORE_FILE) {
    this.path = join(dataDir, fileName)
    this.data = JsonFileStore.read<T>(this.path)
  }

  private static read<T> (path: string): Partial<T> {
    if (!existsSync(path)) return {}
    try {
      const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'))
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Partial<T>
    } catch { /* fall through: keep the unreadable file for the user, start empty */ }
    copyFileSync(path, `${path}.corrupt-${Date.now()}`)
    return {}
  }

  get<K extends keyof T> (key: K): T[K] | undefined {
    return this.data[key]
  }

  set<K extends keyof T> (key: K, value: T[K]): void {
    this.data[key] = value
    mkdirSync(dirname(this.path), { recursive: true })
    // Write then rename: a crash mid-write leaves the previous document intact.
    const tmp = `${this.path}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(this.data))
    renameSync(tmp, this.path)
  }
}
