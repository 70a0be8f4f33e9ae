// The IPC transport over the host: one invoke channel for every call, one event channel for
// batched changes. Written against the few members of ipcMain / WebContents it uses, so tests
// drive it with the real host and engine in plain Node.
import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, type BridgeError, type EventName, type EventPayloads } from '../contract/contract.ts'
import type { Host } from '../host/host.ts'
import { EngineError, toEngineError } from '../engine/errors.ts'
import { EventBatcher, DEFAULT_BATCH_MS } from './event-batcher.ts'
import type { FrameLike } from './trusted-frame.ts'

export interface InvokeEventLike { readonly senderFrame: FrameLike | null }
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown> | unknown): void
  removeHandler(channel: string): void
}

/** What the preload receives from every call. */
export type CallResponse = { ok: true; result: unknown } | { ok: false; error: BridgeError }

export function registerCallHandler (ipcMain: IpcMainLike, host: Host, isTrusted: (frame: FrameLike | null) => boolean): () => void {
  ipcMain.handle(IPC_CALL_CHANNEL, async (event, name, args): Promise<CallResponse> => {
    if (!isTrusted(event.senderFrame)) {
      return { ok: false, error: new EngineError('FORBIDDEN', 'Calls are accepted only from the app\'s own window.').toBridge() }
    }
    try {
      // The name goes on as it came: host.call refuses anything but a contract name, and String()
      // of a crafted object could throw before that check.
      return { ok: true, result: await host.call(name as string, args) }
    } catch (err) {
      const e = err instanceof EngineError ? err : toEngineError(err)
      if (e.code === 'INTERNAL') console.error(`shoal: ${typeof name === 'string' ? name.slice(0, 100) : typeof name} failed`, err)
      return { ok: false, error: e.toBridge() }
    }
  })
  return () => ipcMain.removeHandler(IPC_CALL_CHANNEL)
}

/** Where batched events go: the app window's webContents.send, when a window is open. */
export type RendererSend = (channel: typeof IPC_EVENT_CHANNEL, event: EventName, payload: unknown) => void

export function forwardEvents (host: Host, send: RendererSend, intervalMs = DEFAULT_BATCH_MS): { flush(): void; stop(): void } {
  const batcher = new EventBatcher(<E extends EventName>(event: E, payload: EventPayloads[E]) => send(IPC_EVENT_CHANNEL, event, payload), intervalMs)
  const unsubscribe = host.subscribe((event, payload) => batcher.push(event, payload))
  return {
    flush: () => batcher.flush(),
    stop: () => { unsubscribe(); batcher.close() }
  }
}
