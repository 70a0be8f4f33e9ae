// Loads the real preload bundle in a node:vm context with a stand-in for `require('electron')`.
// A stand-in is the only option here: no Electron binary can be installed on this machine (see
// FACTS.md), and the bundle requires nothing but `electron`. The stand-in records what the
// preload exposes and sends, and can route invokes to a real ipcMain-like handler.
import { build } from 'esbuild'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import vm from 'node:vm'

const root = resolve(import.meta.dirname, '..', '..')

/** Bundles preload/preload.ts exactly as scripts/build.mjs does, into a private temp file. */
export async function bundlePreload (): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-preload-'))
  const out = join(dir, 'preload.cjs')
  await build({
    entryPoints: [join(root, 'preload', 'preload.ts')], bundle: true, platform: 'node', format: 'cjs',
    target: 'node22', external: ['electron'], outfile: out, logLevel: 'warning'
  })
  const code = readFileSync(out, 'utf8')
  rmSync(dir, { recursive: true, force: true })
  return code
}

export type Invoke = (channel: string, ...args: unknown[]) => Promise<unknown>

export interface LoadedPreload {
  /** Everything passed to contextBridge.exposeInMainWorld, by key. */
  exposed: Map<string, unknown>
  invokes: Array<{ channel: string; args: unknown[] }>
  /** Channels the preload listens on with ipcRenderer.on. */
  listening: Map<string, (event: unknown, ...args: unknown[]) => void>
  /** Everything the preload required. */
  required: string[]
  /** Simulates main sending on a channel. */
  emit(channel: string, ...args: unknown[]): void
  /** Dispatches a DOM-like paste event on the page. */
  paste(text: string, target?: { tagName: string }): { defaultPrevented: boolean }
  pathsAsked: unknown[]
}

export function loadPreload (code: string, invoke: Invoke): LoadedPreload {
  const exposed = new Map<string, unknown>()
  const invokes: LoadedPreload['invokes'] = []
  const listening = new Map<string, (event: unknown, ...args: unknown[]) => void>()
  const required: string[] = []
  const pageListeners = new Map<string, Array<(e: unknown) => void>>()
  const pathsAsked: unknown[] = []
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => { exposed.set(key, api) } },
    ipcRenderer: {
      invoke: (channel: string, ...args: unknown[]) => { invokes.push({ channel, args }); return invoke(channel, ...args) },
      on: (channel: string, fn: (event: unknown, ...args: unknown[]) => void) => { listening.set(channel, fn) },
      send: () => { throw new Error('the preload must not use ipcRenderer.send') },
      sendSync: () => { throw new Error('the preload must not use ipcRenderer.sendSync') }
    },
    webUtils: { getPathForFile: (f: unknown) => { pathsAsked.push(f); return '/picked/path' } }
  }
  const page = {
    addEventListener: (type: string, fn: (e: unknown) => void) => { pageListeners.set(type, [...(pageListeners.get(type) ?? []), fn]) }
  }
  const context = vm.createContext({
    require: (id: string) => { required.push(id); if (id === 'electron') return electron; throw new Error(`preload required '${id}'`) },
    module: { exports: {} },
    exports: {},
    console,
    setTimeout,
    clearTimeout,
    addEventListener: page.addEventListener
  })
  vm.runInContext(code, context, { filename: 'preload.cjs' })
  return {
    exposed,
    invokes,
    listening,
    required,
    pathsAsked,
    emit: (channel, ...args) => listening.get(channel)?.({ sender: 'main' }, ...args),
    paste (text, target = { tagName: 'DIV' }) {
      let prevented = false
      const e = {
        get defaultPrevented () { return prevented },
        target,
        clipboardData: { getData: (t: string) => (t === 'text/plain' ? text : '') },
        preventDefault: () => { prevented = true }
      }
      for (const fn of pageListeners.get('paste') ?? []) fn(e)
      return { defaultPrevented: prevented }
    }
  }
}
