// Every torrent, keyed by info hash: a full snapshot from `torrents.list`, then the engine's
// batched patches. The list is replaced (not deeply proxied) per batch: one cheap array copy,
// and views derive from it without tracking thousands of fields.
import type { EventPayloads, TorrentSummary } from '../contract.ts'

class TorrentStore {
  private readonly byHash = new Map<string, TorrentSummary>()
  list = $state.raw<TorrentSummary[]>([])
  loaded = $state(false)

  /** Reactive like `list`: reading it makes the caller re-run on the next batch. */
  get (infoHash: string): TorrentSummary | undefined {
    void this.list
    return this.byHash.get(infoHash)
  }

  reset (all: TorrentSummary[]): void {
    this.byHash.clear()
    for (const t of all) this.byHash.set(t.infoHash, t)
    this.list = [...this.byHash.values()]
    this.loaded = true
  }

  apply (ev: EventPayloads['torrents.changed']): void {
    for (const t of ev.added) this.byHash.set(t.infoHash, t)
    for (const { infoHash, patch } of ev.changed) {
      const t = this.byHash.get(infoHash)
      if (t) this.byHash.set(infoHash, { ...t, ...patch })
    }
    for (const h of ev.removed) this.byHash.delete(h)
    this.list = [...this.byHash.values()]
  }
}

export const torrents = new TorrentStore()

export type Filter = 'all' | 'downloading' | 'seeding' | 'paused' | 'finished' | 'errored'
export const FILTERS: Filter[] = ['all', 'downloading', 'seeding', 'paused', 'finished', 'errored']

export function matchesFilter (t: TorrentSummary, f: Filter): boolean {
  switch (f) {
    case 'all': return true
    case 'downloading': return t.state === 'downloading' || t.state === 'metadata' || t.state === 'checking'
    case 'seeding': return t.state === 'seeding'
    case 'paused': return t.state === 'paused'
    case 'finished': return t.progress >= 1
    case 'errored': return t.state === 'error'
  }
}

export type SortKey = 'name' | 'size' | 'progress' | 'state' | 'downloadSpeed' | 'uploadSpeed' | 'eta' | 'peers' | 'ratio' | 'addedAt'

export function compareBy (key: SortKey, dir: 1 | -1): (a: TorrentSummary, b: TorrentSummary) => number {
  if (key === 'name') {
    const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })
    return (a, b) => dir * collator.compare(a.name, b.name)
  }
  if (key === 'state') return (a, b) => dir * a.state.localeCompare(b.state)
  // Unknown ETAs sort last either way.
  if (key === 'eta') return (a, b) => (a.eta ?? Infinity) === (b.eta ?? Infinity) ? 0 : a.eta === null ? 1 : b.eta === null ? -1 : dir * (a.eta - b.eta)
  return (a, b) => dir * ((a[key] as number) - (b[key] as number))
}

/** What the Transfers list shows: filtered, searched, sorted. */
export function visibleTorrents (all: TorrentSummary[], filter: Filter, search: string, key: SortKey, dir: 1 | -1): TorrentSummary[] {
  const q = search.trim().toLowerCase()
  const out = all.filter((t) => matchesFilter(t, filter) && (!q || t.name.toLowerCase().includes(q) || t.infoHash.startsWith(q)))
  return out.sort(compareBy(key, dir))
}
