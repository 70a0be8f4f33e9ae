// The sandboxed preload: exposes exactly the contract as window.shoal. Calls are allowed only for
// the contract's command and query names and travel on one invoke channel; events are forwarded
// only for the contract's event names, and held until the page subscribes (a page that subscribes
// late, after a reload, still gets them; it asks for a snapshot with torrents.list anyway).
// Nothing else of Electron or Node reaches the page.
import { contextBridge, ipcRenderer, webUtils } from 'electron'
import {
  COMMAND_NAMES, QUERY_NAMES, EVENT_NAMES, IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, PRELOAD_GLOBAL,
  type BridgeError, type CallName, type DesktopBridge, type EventName
} from '../main/contract/contract.ts'

type CallResponse = { ok: true; result: unknown } | { ok: false; error: BridgeError }
type Listener = (payload: unknown) => void

const CALLS: ReadonlySet<string> = new Set<string>([...COMMAND_NAMES, ...QUERY_NAMES])
const EVENTS: ReadonlySet<string> = new Set<string>(EVENT_NAMES)
/** Per event name, while nobody listens: enough to bridge a reload, bounded so it cannot grow. */
const MAX_HELD = 50

const listeners = new Map<string, Set<Listener>>()
const held = new Map<string, unknown[]>()

// Failures cross contextBridge as plain { code, message } objects: Error subclasses lose their
// own properties in the copy.
function bridgeError (code: BridgeError['code'], message: string): BridgeError {
  return { code, message }
}

async function call (name: CallName, args: unknown): Promise<unknown> {
  if (typeof name !== 'string') throw bridgeError('BAD_ARGUMENT', `A call name is a string, not ${name === null ? 'null' : typeof name}.`)
  if (!CALLS.has(name)) throw bridgeError('BAD_ARGUMENT', `Unknown call '${(name as string).slice(0, 100)}'.`)
  let res: CallResponse
  try {
    res = await ipcRenderer.invoke(IPC_CALL_CHANNEL, name, args ?? {}) as CallResponse
  } catch {
    // No handler (main is shutting down) or arguments IPC cannot clone: still a { code, message }.
    throw bridgeError('INTERNAL', 'Shoal\'s engine did not take the call (the app may be closing, or the arguments cannot be sent).')
  }
  if (res.ok) return res.result
  throw bridgeError(res.error.code, res.error.message)
}

function on (event: EventName, listener: Listener): () => void {
  if (typeof event !== 'string' || !EVENTS.has(event) || typeof listener !== 'function') return () => {}
  let set = listeners.get(event)
  if (!set) { set = new Set(); listeners.set(event, set) }
  set.add(listener)
  const backlog = held.get(event)
  if (backlog) {
    held.delete(event)
    for (const payload of backlog) listener(payload)
  }
  return () => { set.delete(listener) }
}

ipcRenderer.on(IPC_EVENT_CHANNEL, (_e, event: unknown, payload: unknown) => {
  if (typeof event !== 'string' || !EVENTS.has(event)) return
  const set = listeners.get(event)
  if (set && set.size) {
    for (const fn of set) {
      try { fn(payload) } catch (err) { console.error(`shoal: ${event} listener failed`, err) }
    }
    return
  }
  const backlog = held.get(event) ?? []
  backlog.push(payload)
  if (backlog.length > MAX_HELD) backlog.shift()
  held.set(event, backlog)
})

function pathForFile (file: Blob): string {
  return webUtils.getPathForFile(file as Parameters<typeof webUtils.getPathForFile>[0])
}

const bridge: DesktopBridge = {
  call: call as DesktopBridge['call'],
  on: on as DesktopBridge['on'],
  pathForFile
}
contextBridge.exposeInMainWorld(PRELOAD_GLOBAL, bridge)

// Pasting a magnet link anywhere that is not a text field adds it. A page that handles paste
// itself calls preventDefault(), and this stays out of the way.
// The project compiles without the DOM library (main runs in Node); these are the few DOM members used.
interface PasteEventLike {
  readonly defaultPrevented: boolean
  readonly target: { readonly tagName?: string; readonly isContentEditable?: boolean } | null
  readonly clipboardData: { getData(type: string): string } | null
  preventDefault(): void
}
const page = globalThis as unknown as { addEventListener(type: 'paste', fn: (e: PasteEventLike) => void): void }
page.addEventListener('paste', (e) => {
  if (e.defaultPrevented) return
  const target = e.target
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName ?? ''))) return
  const text = e.clipboardData?.getData('text/plain') ?? ''
  const m = /magnet:\?[^\s"'<>]+/i.exec(text)
  if (!m) return
  e.preventDefault()
  call('torrent.add', { source: { kind: 'uri', uri: m[0] } }).catch((err: BridgeError) => {
    if (err.code !== 'DUPLICATE') console.error(`shoal: ${err.message}`)
  })
})
