#!/usr/bin/env node
/* global window, document, requestAnimationFrame -- the stub and the timing loop run in the page */
// The Transfers list with 2,000 torrents: how long one batch of engine patches takes to reach the
// screen (apply + derive + render + layout), in the built renderer in Chromium. No engine: a stub
// `window.shoal` bridge feeds 2,000 summaries, then batches that change 200 of them (a busy
// session's tick). Prints the median, p95 and worst of 100 batches; the budget is 16 ms.
//   npm run build && node scripts/bench-ui.mjs
import { createServer } from 'node:http'
import { readFile } from 'node:fs/promises'
import { extname, join, resolve, dirname } from 'node:path'
import { chromium } from 'playwright-core'

const root = resolve(dirname(new URL(import.meta.url).pathname), '..', 'dist', 'renderer')
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' }
const server = createServer(async (req, res) => {
  const path = join(root, new URL(req.url, 'http://x').pathname === '/' ? 'index.html' : new URL(req.url, 'http://x').pathname)
  try { res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(await readFile(path)) } catch { res.writeHead(404).end() }
})
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const url = `http://127.0.0.1:${server.address().port}/`

// Runs in the page before the app: a DesktopBridge stand-in with 2,000 torrents.
function stubBridge (count) {
  const listeners = new Map()
  const states = ['downloading', 'seeding', 'paused', 'downloading', 'metadata']
  const torrents = Array.from({ length: count }, (_, i) => ({
    infoHash: i.toString(16).padStart(40, '0'), name: `Torrent number ${i} — some long descriptive name.mkv`, magnetURI: 'magnet:?xt=urn:btih:' + i.toString(16).padStart(40, '0'),
    origin: i % 3 ? 'downloaded' : 'shared', state: states[i % 5], error: null, errorCode: null, size: 1e6 * (i + 1), progress: (i % 100) / 100, checkProgress: null,
    downloaded: 0, uploaded: 0, downloadSpeed: i * 10, uploadSpeed: i * 3, eta: i, ratio: 0.5, peers: i % 20, seeds: i % 7, savePath: '/tmp', addedAt: i,
    completedAt: null, sequential: false, private: false, fileCount: 1
  }))
  const settings = { downloadPath: '/tmp', port: 0, maxDownloadSpeed: 0, maxUploadSpeed: 0, maxConnections: 100, dht: true, pex: true, lsd: true, utp: true, encryption: 'prefer', upnp: true, seedRatioLimit: 0, stunServers: [], startMinimised: false, theme: 'light', language: 'en' }
  const answers = {
    'torrents.list': () => torrents, 'settings.get': () => settings, 'stats.get': () => ({ downloadSpeed: 0, uploadSpeed: 0, peers: 0, dhtNodes: 0, listeningPort: 1, torrents: count }),
    'nat.status': () => null, 'app.capabilities': () => ({ transport: 'ipc', desktop: true, version: 'bench' })
  }
  window.shoal = {
    call: async (name) => (answers[name] ? answers[name]() : null),
    on: (event, f) => { listeners.set(event, f); return () => listeners.delete(event) },
    pathForFile: () => ''
  }
  let tick = 0
  window.__emitBatch = () => {
    tick++
    const changed = []
    for (let k = 0; k < 200; k++) {
      const i = (tick * 200 + k) % count
      changed.push({ infoHash: torrents[i].infoHash, patch: { progress: ((i + tick) % 100) / 100, downloadSpeed: tick * 1000 + i, eta: tick + i } })
    }
    listeners.get('torrents.changed')?.({ added: [], changed, removed: [] })
  }
}

const browser = await chromium.launch({ executablePath: process.env.SHOAL_CHROMIUM ?? '/usr/lib/chromium/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] })
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  await page.addInitScript(stubBridge, 2000)
  await page.goto(url)
  await page.locator('.transfer-row').first().waitFor()
  const rendered = await page.locator('.transfer-row').count()
  // Sorting by download speed makes every batch reorder the list: the worst case.
  await page.getByRole('columnheader', { name: 'Down' }).click()
  const times = await page.evaluate(async () => {
    const out = []
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now()
      window.__emitBatch()
      // Svelte flushes in a microtask; a forced layout makes the browser do its part too.
      await Promise.resolve()
      await new Promise((r) => queueMicrotask(r))
      void document.body.offsetHeight
      out.push(performance.now() - t0)
      await new Promise((r) => requestAnimationFrame(() => r()))
    }
    return out
  })
  times.sort((a, b) => a - b)
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(2)
  console.log(`Transfers list, 2000 torrents, ${rendered} rows in the DOM, 100 batches of 200 changed torrents, sorted by speed:`)
  console.log(`  median ${at(0.5)} ms, p95 ${at(0.95)} ms, worst ${times[times.length - 1].toFixed(2)} ms per update (budget 16 ms)`)
} finally {
  await browser.close()
  server.close()
}
