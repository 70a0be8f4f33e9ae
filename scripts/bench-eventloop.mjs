#!/usr/bin/env node
// Event-loop lag of the process that hosts the engine (Electron's main process in the app) while
// it shares a 1 GiB file: hashing, building the torrent, and starting to seed. Prints figures;
// the target is a maximum lag under 50 ms. On a shared machine a lag can also come from the OS
// not scheduling the thread (other processes, the hash workers on every core), so each 5 ms tick
// also records the main thread's own CPU time: a long tick with little CPU is starvation, a long
// tick with as much CPU is the engine blocking the loop.
//   node scripts/bench-eventloop.mjs [size in MiB, default 1024]   (uses dist/ when built, else the sources)
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { existsSync, mkdirSync, mkdtempSync, openSync, writeSync, closeSync, rmSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join, resolve, dirname } from 'node:path'
import { pathToFileURL } from 'node:url'

const root = resolve(dirname(new URL(import.meta.url).pathname), '..')
const built = existsSync(join(root, 'dist/main/engine/engine.js'))
const mod = (p) => pathToFileURL(join(root, built ? `dist/${p}.js` : `${p}.ts`)).href
const { Engine } = await import(mod('main/engine/engine'))
const { JsonFileStore } = await import(mod('main/store/store'))

const mib = Number(process.argv[2] ?? 1024)
const dir = mkdtempSync(join(tmpdir(), 'shoal-bench-'))
const file = join(dir, 'share', 'big.bin')
try {
  mkdirSync(dirname(file), { recursive: true })
  // Distinct random blocks (a repeated block would hash the same, but keep the data honest).
  const fd = openSync(file, 'w')
  for (let i = 0; i < mib; i++) writeSync(fd, randomBytes(1 << 20))
  closeSync(fd)

  const engine = await Engine.open({
    store: new JsonFileStore(join(dir, 'data')),
    overrides: { port: 0, dht: false, lsd: false, upnp: false, downloadPath: join(dir, 'dl') }
  })

  // Two views of the same thing: the histogram of libuv's loop delay, and a 5 ms timer's lateness.
  const h = monitorEventLoopDelay({ resolution: 5 })
  let lastTick = performance.now()
  let lastCpu = process.threadCpuUsage()
  let worstTimer = 0
  let worstCpu = 0
  let cpuAtWorst = 0
  const lags = []
  const timer = setInterval(() => {
    const now = performance.now()
    const cpu = process.threadCpuUsage(lastCpu)
    lastCpu = process.threadCpuUsage()
    const cpuMs = (cpu.user + cpu.system) / 1000
    const lag = now - lastTick - 5
    lastTick = now
    lags.push(lag)
    if (cpuMs > worstCpu) worstCpu = cpuMs
    if (lag > worstTimer) { worstTimer = lag; cpuAtWorst = cpuMs }
  }, 5)
  const elu0 = performance.eventLoopUtilization()
  h.enable()
  const t0 = performance.now()
  let lastProgress = 0
  engine.on('share.progress', (p) => { lastProgress = p.hashedBytes })
  const { infoHash } = await engine.share([file])
  const ms = performance.now() - t0
  // Keep measuring while the new torrent settles into seeding.
  await new Promise((r) => setTimeout(r, 1000))
  h.disable()
  clearInterval(timer)
  const elu = performance.eventLoopUtilization(elu0)
  const state = engine.list().find((t) => t.infoHash === infoHash)?.state
  lags.sort((a, b) => a - b)
  const pct = (q) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))].toFixed(1)
  const f = (ns) => (ns / 1e6).toFixed(1)
  console.log(`shared ${mib} MiB in ${(ms / 1000).toFixed(2)} s (${(mib / (ms / 1000)).toFixed(0)} MiB/s), last progress ${lastProgress} bytes, state ${state}`)
  console.log(`event-loop delay (monitorEventLoopDelay): max ${f(h.max)} ms, p99 ${f(h.percentile(99))} ms, mean ${f(h.mean)} ms`)
  console.log(`5 ms timer lateness: max ${worstTimer.toFixed(1)} ms, p99 ${pct(0.99)} ms, p50 ${pct(0.5)} ms over ${lags.length} ticks`)
  console.log(`main thread: busy ${elu.active.toFixed(0)} ms of ${(elu.active + elu.idle).toFixed(0)} ms (utilisation ${(elu.utilization * 100).toFixed(1)} %); most CPU in one tick ${worstCpu.toFixed(1)} ms; CPU during the worst tick ${cpuAtWorst.toFixed(1)} ms`)
  console.log(`engine sources: ${built ? 'dist/ (built)' : 'main/ (TypeScript sources)'}; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  console.log(`target: max lag < 50 ms -> ${Math.max(worstTimer, h.max / 1e6) < 50 ? 'met' : 'NOT met'}; longest blocking by the engine (CPU in one tick) < 50 ms -> ${worstCpu < 50 ? 'met' : 'NOT met'}`)
  await engine.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
