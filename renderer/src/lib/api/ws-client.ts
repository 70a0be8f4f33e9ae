// The contract over WebSocket to `shoal serve`: calls are matched to replies by id; events go to
// listeners. Reconnects after a drop and tells the UI, which then reloads its snapshot.
import type { BridgeError, CallArgs, CallName, CallResult, EventName, EventPayloads, ShoalApi } from '../contract.ts'
import { ApiError } from './errors.ts'

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void }
type Reply = { id: number | string | null; result?: unknown; error?: BridgeError }
type Push = { event: EventName; payload: unknown }

export type ConnectionState = 'connecting' | 'open' | 'closed'

export class WsClient implements ShoalApi {
  private ws: WebSocket | null = null
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private readonly listeners = new Map<string, Set<(p: unknown) => void>>()
  private readonly stateListeners = new Set<(s: ConnectionState) => void>()
  private opened: Promise<void> | null = null
  private retryMs = 500
  state: ConnectionState = 'connecting'
  private readonly url: string

  constructor (url: string) {
    this.url = url
    this.connect()
  }

  private setState (s: ConnectionState): void {
    this.state = s
    for (const f of this.stateListeners) f(s)
  }

  onState (f: (s: ConnectionState) => void): () => void {
    this.stateListeners.add(f)
    return () => this.stateListeners.delete(f)
  }

  private connect (): void {
    this.setState('connecting')
    const ws = new WebSocket(this.url)
    this.ws = ws
    this.opened = new Promise((resolve, reject) => {
      ws.onopen = () => { this.retryMs = 500; this.setState('open'); resolve() }
      ws.onerror = () => reject(new Error('Cannot reach Shoal: is `shoal serve` still running?'))
    })
    this.opened.catch(() => {})
    ws.onmessage = (ev) => this.receive(String(ev.data))
    ws.onclose = () => {
      for (const p of this.pending.values()) p.reject(new Error('The connection to Shoal closed.'))
      this.pending.clear()
      this.setState('closed')
      setTimeout(() => this.connect(), this.retryMs)
      this.retryMs = Math.min(this.retryMs * 2, 16000)
    }
  }

  private receive (text: string): void {
    let msg: Reply | Push
    try { msg = JSON.parse(text) as Reply | Push } catch { return }
    if ('event' in msg) {
      for (const f of this.listeners.get(msg.event) ?? []) f(msg.payload)
      return
    }
    if (typeof msg.id !== 'number') return
    const p = this.pending.get(msg.id)
    if (!p) return
    this.pending.delete(msg.id)
    if (msg.error) p.reject(new ApiError(msg.error))
    else p.resolve(msg.result)
  }

  async call<N extends CallName> (name: N, args: CallArgs<N>): Promise<CallResult<N>> {
    await this.opened
    const ws = this.ws
    if (!ws || ws.readyState !== WebSocket.OPEN) throw new Error('Not connected to Shoal.')
    const id = this.nextId++
    return new Promise<CallResult<N>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      ws.send(JSON.stringify({ id, call: name, args }))
    })
  }

  on<E extends EventName> (event: E, listener: (payload: EventPayloads[E]) => void): () => void {
    let set = this.listeners.get(event)
    if (!set) { set = new Set(); this.listeners.set(event, set) }
    const f = listener as (p: unknown) => void
    set.add(f)
    return () => set.delete(f)
  }
}
