// The one API the UI uses: Electron's preload bridge when present, else the WebSocket to
// `shoal serve`. Both speak the same contract; only dropped files differ (a path on the desktop,
// an upload in a browser).
import type { Capabilities, DesktopBridge, ShoalApi } from '../contract.ts'
import { WsClient, type ConnectionState } from './ws-client.ts'
import { filesOf, type DroppedItem } from './dropped.ts'
import { ApiError } from './errors.ts'

export interface UploadProgress { sentBytes: number; totalBytes: number }

export interface UiApi extends ShoalApi {
  /** Paths on the engine's machine for dropped items, uploading them first in a browser. */
  pathsForDrop(items: DroppedItem[], onProgress?: (p: UploadProgress) => void): Promise<string[]>
  onConnection(f: (s: ConnectionState) => void): () => void
  capabilities: Promise<Capabilities>
}

const TOKEN_KEY = 'shoal.token'

/** Takes ?token= from the address into sessionStorage and out of the address bar (and history). */
function takeToken (): string {
  const url = new URL(location.href)
  const fromUrl = url.searchParams.get('token')
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl)
    url.searchParams.delete('token')
    history.replaceState(null, '', url.pathname + url.search + url.hash)
  }
  return fromUrl ?? sessionStorage.getItem(TOKEN_KEY) ?? ''
}

function desktopApi (bridge: DesktopBridge): UiApi {
  return {
    call: (name, args) => bridge.call(name, args),
    on: (event, listener) => bridge.on(event, listener),
    pathsForDrop: async (items) => items.flatMap((i) => (i.file ? [bridge.pathForFile(i.file)] : [])).filter((p) => p),
    onConnection: (f) => { f('open'); return () => {} },
    capabilities: bridge.call('app.capabilities', {})
  }
}

async function upload (token: string, items: DroppedItem[], onProgress?: (p: UploadProgress) => void): Promise<string[]> {
  const files = (await Promise.all(items.map(filesOf))).flat()
  const totalBytes = files.reduce((n, f) => n + f.file.size, 0)
  const batch = crypto.randomUUID()
  const tops: string[] = []
  let sentBytes = 0
  // One at a time: the server names each top-level item once per batch.
  for (const f of files) {
    const q = new URLSearchParams({ batch, path: f.relPath })
    const res = await fetch(`./api/upload?${q}`, { method: 'PUT', body: f.file, headers: { authorization: `Bearer ${token}` } })
    const body = await res.json().catch(() => null) as { path?: string; error?: { code: 'INTERNAL'; message: string } } | null
    if (!res.ok || !body?.path) throw new ApiError(body?.error ?? { code: 'INTERNAL', message: `Upload of ${f.relPath} failed (${res.status}).` })
    if (!tops.includes(body.path)) tops.push(body.path)
    sentBytes += f.file.size
    onProgress?.({ sentBytes, totalBytes })
  }
  return tops
}

function browserApi (): UiApi {
  const token = takeToken()
  const wsUrl = new URL(`./ws?token=${encodeURIComponent(token)}`, location.href)
  wsUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:'
  const client = new WsClient(wsUrl.href)
  return {
    call: (name, args) => client.call(name, args),
    on: (event, listener) => client.on(event, listener),
    pathsForDrop: (items, onProgress) => upload(token, items, onProgress),
    onConnection: (f) => { f(client.state); return client.onState(f) },
    capabilities: client.call('app.capabilities', {})
  }
}

let api: UiApi | null = null

export function getApi (): UiApi {
  if (!api) {
    const bridge = (globalThis as { shoal?: DesktopBridge }).shoal
    api = bridge ? desktopApi(bridge) : browserApi()
  }
  return api
}
