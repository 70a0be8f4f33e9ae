// Churn: one engine for a while with peers joining and leaving (raw webtorrent clients in another
// process, real wires over loopback) and torrents added and removed through the host, sampling
// heap after a full GC and RSS every few seconds. Asserts no memory growth trend: the least-squares
// slope of heap-after-GC over the second half of the run stays under a bound. `npm test` runs about
// 60 s; SHOAL_RELIABILITY_LONG=1 (npm run test:reliability -- --long) runs 10 minutes with a
// tighter bound; SHOAL_CHURN_MS sets the length directly.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { tempDir } from '../helpers/fixtures.ts'
import { openTestEngine } from '../helpers/engines.ts'
import { createHost } from '../../main/host/host.ts'
import type { GlobalStats, TorrentSummary } from '../../main/contract/contract.ts'
import { makeShares, startPeers, slope, mib, ms } from './load-helpers.ts'
import { Gen } from './hostile-messages.ts'
import { heapAfterGc } from './gc.ts'
import { writeFigures } from './figures.ts'

const LONG = process.env.SHOAL_RELIABILITY_LONG === '1'
const CHURN_MS = Number(process.env.SHOAL_CHURN_MS ?? (LONG ? 600_000 : 60_000))
const SAMPLE_MS = CHURN_MS >= 300_000 ? 10_000 : 3_000
/** MiB per minute of heap-after-GC growth over the second half. A short run has few, noisy samples. */
const SLOPE_BOUND = Number(process.env.SHOAL_CHURN_SLOPE_BOUND ?? (CHURN_MS >= 300_000 ? 2 : 24))
const POOL = 300
const ACTIVE = 150
const SWAP = 15
const CLIENTS = 4
const PER_CLIENT = 40
const STEP_MS = 1500

test(`churn for ${CHURN_MS / 1000} s: peers join and leave, torrents come and go; heap after GC shows no growth trend`, async () => {
  const d = tempDir('shoal-churn-')
  const { dataDir, torrentsDir, shares } = makeShares(join(d.path, 'src'), POOL)
  const engine = await openTestEngine({ dataDir: join(d.path, 'engine'), settings: { pex: false } })
  const host = createHost({ engine, transport: 'websocket', version: '0.0.0-test' })
  const peers = startPeers(join(d.path, 'peers'), engine.listeningPort, torrentsDir)
  const g = new Gen(0xc4a2)
  const lag = monitorEventLoopDelay({ resolution: 10 })
  const samples: Array<{ t: number; heap: number; external: number; rss: number; peers: number; torrents: number }> = []
  const counts = { added: 0, removed: 0, joined: 0, left: 0, queries: 0 }
  let maxPeers = 0
  try {
    const add = async (i: number) => {
      await host.call('torrent.add', { source: { kind: 'torrentBytes', base64: shares[i]!.base64 }, savePath: dataDir })
      counts.added++
    }
    const active = new Set<number>()
    for (let i = 0; i < ACTIVE; i++) { await add(i); active.add(i) }
    const pickClient = () => Array.from({ length: PER_CLIENT }, () => g.int(POOL))
    let nextClient = 0
    const live: string[] = []
    const join_ = () => { const id = `c${nextClient++}`; peers.join(id, pickClient()); live.push(id); counts.joined++ }
    for (let c = 0; c < CLIENTS; c++) join_()

    lag.enable()
    const t0 = performance.now()
    let nextSample = t0
    while (performance.now() - t0 < CHURN_MS) {
      // Torrents: some go, others (often ones removed before) come back.
      const out = [...active].sort(() => g.r() - 0.5).slice(0, SWAP)
      await host.call('torrent.remove', { infoHashes: out.map((i) => shares[i]!.infoHash), deleteData: false })
      for (const i of out) active.delete(i)
      counts.removed += out.length
      const candidates = shares.map((s) => s.index).filter((i) => !active.has(i) && !out.includes(i))
      for (let k = 0; k < SWAP; k++) {
        const i = candidates.splice(g.int(candidates.length), 1)[0]!
        await add(i)
        active.add(i)
      }
      // Peers: the oldest client leaves, a new one joins.
      peers.leave(live.shift()!)
      counts.left++
      join_()
      // The UI's queries.
      const list = await host.call('torrents.list', {}) as TorrentSummary[]
      assert.equal(list.length, ACTIVE)
      const stats = await host.call('stats.get', {}) as GlobalStats
      maxPeers = Math.max(maxPeers, stats.peers)
      counts.queries += 2
      if (performance.now() >= nextSample) {
        const heap = heapAfterGc()
        const mem = process.memoryUsage()
        samples.push({ t: (performance.now() - t0) / 60_000, heap, external: mem.external, rss: mem.rss, peers: stats.peers, torrents: list.length })
        nextSample += SAMPLE_MS
      }
      await new Promise((r) => setTimeout(r, STEP_MS))
    }
    lag.disable()
    const half = samples.slice(Math.floor(samples.length / 2))
    const heapSlope = slope(half.map((s) => [s.t, s.heap / 1048576]))
    const rssSlope = slope(half.map((s) => [s.t, s.rss / 1048576]))
    const externalSlope = slope(half.map((s) => [s.t, s.external / 1048576]))
    const heaps = samples.map((s) => s.heap)
    writeFigures('churn', {
      title: `Churn ${(CHURN_MS / 60_000).toFixed(1)} min: peers joining and leaving, torrents added and removed`,
      durationMs: CHURN_MS,
      counts,
      maxPeers,
      heapSlopeMiBPerMin: heapSlope,
      rssSlopeMiBPerMin: rssSlope,
      externalSlopeMiBPerMin: externalSlope,
      samples,
      reportLines: [
        `${counts.added} adds and ${counts.removed} removes through the host (${ACTIVE} of ${POOL} torrents active), ${counts.joined} peer clients joined and ${counts.left} left (up to ${maxPeers} wires), ${counts.queries} queries`,
        `heap after GC: ${samples.length} samples, first ${mib(heaps[0] ?? 0)} MiB, min ${mib(Math.min(...heaps))}, max ${mib(Math.max(...heaps))}, last ${mib(heaps.at(-1) ?? 0)} MiB; slope over the second half ${heapSlope.toFixed(2)} MiB/min (bound ${SLOPE_BOUND})`,
        `RSS ${mib(samples[0]?.rss ?? 0)} -> ${mib(samples.at(-1)?.rss ?? 0)} MiB, slope over the second half ${rssSlope.toFixed(2)} MiB/min; Buffers and other memory outside the JS heap ${mib(samples[0]?.external ?? 0)} -> ${mib(samples.at(-1)?.external ?? 0)} MiB, slope ${externalSlope.toFixed(2)} MiB/min (both recorded, not asserted)`,
        `event-loop lag during churn (forced GCs for the samples included) p50 ${ms(lag.percentile(50) / 1e6)} / p99 ${ms(lag.percentile(99) / 1e6)} / max ${ms(lag.max / 1e6)} ms`
      ]
    })
    assert.ok(samples.length >= 6, `only ${samples.length} samples`)
    assert.ok(heapSlope < SLOPE_BOUND, `heap after GC grows ${heapSlope.toFixed(2)} MiB/min over the second half (samples ${half.map((s) => mib(s.heap)).join(', ')})`)
  } finally {
    await peers.stop()
    await engine.close()
    d.cleanup()
  }
})
