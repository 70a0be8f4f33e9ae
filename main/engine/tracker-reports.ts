// What each of a torrent's trackers last answered, for the detail view. webtorrent reports an
// announce that worked on its tracker client ('update'), and one that failed only as a torrent
// 'warning' whose message names the URL.
import type { EventEmitter } from 'node:events'
import type { WtTorrent } from 'webtorrent'
import type { TrackerSnapshot } from '../contract/contract.ts'

type Update = { announce: string; complete?: number; incomplete?: number }

export class TrackerReports {
  private readonly byUrl = new Map<string, TrackerSnapshot>()

  /** Forgets the reports of a torrent's previous run; call as it is added to the client again. */
  clear (): void {
    this.byUrl.clear()
  }

  /** Follows a ready torrent's announces. */
  watch (wt: WtTorrent): void {
    const tracker = (wt.discovery as unknown as { tracker?: EventEmitter } | null)?.tracker
    for (const url of wt.announce) {
      if (!this.byUrl.has(url)) this.byUrl.set(url, { url, status: 'updating', message: null, peers: null, lastAnnounce: null })
    }
    tracker?.on('update', (data: Update) => {
      this.byUrl.set(data.announce, { url: data.announce, status: 'working', message: null, peers: (data.complete ?? 0) + (data.incomplete ?? 0), lastAnnounce: Date.now() })
    })
  }

  /** A torrent's warning. `announce`: the trackers of the torrent running now (none once it stopped). */
  warning (announce: readonly string[], err: Error): void {
    const msg = err.message ?? String(err)
    for (const url of announce) {
      if (msg.includes(url) || announce.length === 1) {
        this.byUrl.set(url, { url, status: 'error', message: msg, peers: null, lastAnnounce: Date.now() })
      }
    }
  }

  /** A report for each of `urls`; idle for one that has said nothing yet. */
  list (urls: readonly string[]): TrackerSnapshot[] {
    return urls.map((url) => this.byUrl.get(url) ?? { url, status: 'idle' as const, message: null, peers: null, lastAnnounce: null })
  }
}
