// The Electron IPC transport assembled without Electron: the real preload bundle (in a vm, see
// preload-harness.ts), main's real call handler and event forwarding, the real host and engine.
// Values crossing the fake IPC are structured-cloned, as Electron's IPC does.
import { IPC_CALL_CHANNEL, PRELOAD_GLOBAL, type DesktopBridge } from '../../main/contract/contract.ts'
import { createHost, type DesktopAdapter } from '../../main/host/host.ts'
import { forwardEvents, registerCallHandler, type IpcMainLike, type InvokeEventLike } from '../../main/app/ipc.ts'
import { APP_URL, isTrustedFrame, type FrameLike } from '../../main/app/trusted-frame.ts'
import { openTestEngine } from '../helpers/engines.ts'
import { loadPreload, type LoadedPreload } from './preload-harness.ts'
import type { TransportUnderTest } from './contract-suite.ts'

export class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => unknown>()
  handle (channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`)
    this.handlers.set(channel, listener)
  }

  removeHandler (channel: string): void { this.handlers.delete(channel) }

  async invokeFrom (frame: FrameLike | null, channel: string, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel)
    if (!h) throw new Error(`No handler registered for '${channel}'`)
    return structuredClone(await h({ senderFrame: frame }, ...structuredClone(args)))
  }
}

export const APP_FRAME: FrameLike = { url: APP_URL, parent: null }

export interface IpcRig extends TransportUnderTest {
  ipcMain: FakeIpcMain
  preload: LoadedPreload
  bridge: DesktopBridge
  desktopCalls: string[]
}

export async function openIpcRig (dataDir: string, preloadCode: string, frame: FrameLike = APP_FRAME): Promise<IpcRig> {
  const engine = await openTestEngine({ dataDir })
  const desktopCalls: string[] = []
  // Electron's dialogs and shell cannot run here; this records what the host asks of them.
  const desktop: DesktopAdapter = {
    openPath: async (p) => { desktopCalls.push(`open ${p}`) },
    revealPath: async (p) => { desktopCalls.push(`reveal ${p}`) },
    pickTorrentFiles: async () => { desktopCalls.push('pickTorrentFiles'); return [] },
    pickShareFolder: async () => { desktopCalls.push('pickShareFolder'); return [] }
  }
  const host = createHost({ engine, desktop, transport: 'ipc', version: '0.0.0-test' })
  const ipcMain = new FakeIpcMain()
  const unregister = registerCallHandler(ipcMain, host, (f) => isTrustedFrame(f, { devServerUrl: null }))
  let preload: LoadedPreload | null = null
  const events = forwardEvents(host, (channel, event, payload) => preload?.emit(channel, event, structuredClone(payload)))
  preload = loadPreload(preloadCode, (channel, ...args) => ipcMain.invokeFrom(frame, channel, ...args))
  const bridge = preload.exposed.get(PRELOAD_GLOBAL) as DesktopBridge
  return {
    ipcMain,
    preload,
    bridge,
    desktopCalls,
    desktop: true,
    client: { call: (name, args) => bridge.call(name as never, args as never), on: (event, fn) => bridge.on(event, fn) },
    close: async () => { events.stop(); unregister(); await engine.close() }
  }
}

export { IPC_CALL_CHANNEL }
