// Coalesces host events for the renderer: at most one message per event type per interval, with
// torrents.changed merged per info hash. The engine already batches; this is the transport's own
// guarantee, whatever the engine or NAT service emit.
import type { EventName, EventPayloads, ShareProgress, TorrentSummary } from '../contract/contract.ts'

export type EventSink = <E extends EventName>(event: E, payload: EventPayloads[E]) => void

/** Four messages per second per event type at most. */
export const DEFAULT_BATCH_MS = 250

type Latest = 'stats.changed' | 'settings.changed' | 'nat.changed'

export class EventBatcher {
  private readonly send: EventSink
  private readonly intervalMs: number
  private added = new Map<string, TorrentSummary>()
  private changed = new Map<string, Partial<TorrentSummary>>()
  private removed = new Set<string>()
  private shares = new Map<string, ShareProgress>()
  private latest = new Map<Latest, unknown>()
  private done: Array<EventPayloads['torrent.done']> = []
  private timer: NodeJS.Timeout | null = null
  private lastFlush = 0
  private closed = false

  constructor (send: EventSink, intervalMs = DEFAULT_BATCH_MS) {
    this.send = send
    this.intervalMs = intervalMs
  }

  push<E extends EventName> (event: E, payload: EventPayloads[E]): void {
    if (this.closed) return
    switch (event) {
      case 'torrents.changed': this.mergeTorrents(payload as EventPayloads['torrents.changed']); break
      case 'share.progress': { const p = payload as ShareProgress; this.shares.set(p.jobId, p); break }
      case 'torrent.done': this.done.push(payload as EventPayloads['torrent.done']); break
      default: this.latest.set(event as Latest, payload)
    }
    this.schedule()
  }

  /** Sends everything pending now. */
  flush (): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = null }
    this.lastFlush = Date.now()
    if (this.added.size || this.changed.size || this.removed.size) {
      const batch: EventPayloads['torrents.changed'] = {
        added: [...this.added.values()],
        changed: [...this.changed].map(([infoHash, patch]) => ({ infoHash, patch })),
        removed: [...this.removed]
      }
      this.added = new Map(); this.changed = new Map(); this.removed = new Set()
      this.send('torrents.changed', batch)
    }
    const shares = [...this.shares.values()]
    this.shares = new Map()
    for (const s of shares) this.send('share.progress', s)
    const latest = [...this.latest]
    this.latest = new Map()
    for (const [event, payload] of latest) this.send(event, payload as EventPayloads[typeof event])
    const done = this.done
    this.done = []
    for (const d of done) this.send('torrent.done', d)
  }

  close (): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private schedule (): void {
    if (this.timer) return
    const wait = Math.max(0, this.lastFlush + this.intervalMs - Date.now())
    this.timer = setTimeout(() => { this.timer = null; this.flush() }, wait)
    this.timer.unref?.()
  }

  /** Receivers apply a batch as: drop `removed`, upsert `added`, then apply `changed` patches. */
  private mergeTorrents (p: EventPayloads['torrents.changed']): void {
    for (const ih of p.removed) {
      this.added.delete(ih)
      this.changed.delete(ih)
      this.removed.add(ih)
    }
    for (const t of p.added) {
      this.removed.delete(t.infoHash)
      this.changed.delete(t.infoHash)
      this.added.set(t.infoHash, t)
    }
    for (const { infoHash, patch } of p.changed) {
      const full = this.added.get(infoHash)
      if (full) this.added.set(infoHash, { ...full, ...patch })
      else this.changed.set(infoHash, { ...this.changed.get(infoHash), ...patch })
    }
  }
}
