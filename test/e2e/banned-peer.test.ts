// A real `shoal serve` downloads from an honest seeder and from a webtorrent seeder whose data was
// altered on disk after it claimed every piece. The page's Peers view and the torrent's Peers tab
// show the liar as banned, with the reason.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { copyFileSync, openSync, readSync, writeSync, closeSync, mkdirSync } from 'node:fs'
import WebTorrent from 'webtorrent'
import { randomFile, sha256File, tempDir, waitFor } from '../helpers/fixtures.ts'
import { withEngines } from '../helpers/engines.ts'
import { buildShare } from '../../main/engine/share-builder.ts'
import { startServe, launchBrowser, WsApi } from './harness.ts'

const MiB = 1024 * 1024

test('the Peers view and the torrent\'s Peers tab show a peer banned for corrupt pieces', async () => {
  const serveDir = tempDir('shoal-e2e-ban-')
  const served = await startServe(serveDir.path)
  const browser = await launchBrowser()
  const liar = new WebTorrent({ dht: false, lsd: false, tracker: false, natUpnp: false, natPmp: false, utPex: false, utp: false, torrentPort: 0 })
  try {
    await withEngines(async ({ dir, open }) => {
      const src = randomFile(join(dir, 'src', 'tampered.bin'), 3 * MiB)
      const built = await buildShare([src], { pieceLength: 32 * 1024 })
      const liarDir = join(dir, 'liar')
      mkdirSync(liarDir, { recursive: true })
      const copy = join(liarDir, 'tampered.bin')
      copyFileSync(src, copy)
      const fd = openSync(copy, 'r+')
      const b = Buffer.alloc(1)
      for (let off = 7; off < 3 * MiB; off += 16 * 1024) { readSync(fd, b, 0, 1, off); b[0] = b[0]! ^ 0x5a; writeSync(fd, b, 0, 1, off) }
      closeSync(fd)
      if (!liar.listening) await new Promise<void>((r) => liar.once('listening', () => r()))
      const lt = liar.add(built.torrentFile, { path: liarDir, skipVerify: true })
      await new Promise<void>((r) => lt.once('ready', () => r()))

      // The honest seeder is held to 192 KiB/s: otherwise it can serve the whole file before the
      // liar has sent the 3 corrupt pieces that get it banned, and nobody is banned.
      const honest = await open('honest', { settings: { pex: false, maxUploadSpeed: 192 * 1024 } })
      const shared = await honest.share([src], { pieceLength: 32 * 1024 })

      const api = await WsApi.open(served)
      try {
        // The magnet names both peers (x.pe): the liar on a loopback alias, the honest seeder on 127.0.0.1.
        await api.call('torrent.add', { source: { kind: 'uri', uri: `${shared.magnetURI}&x.pe=127.0.0.2:${liar.torrentPort}&x.pe=127.0.0.1:${honest.listeningPort}` } })
        await waitFor('the download to complete', async () => (await api.call<Array<{ progress: number }>>('torrents.list'))[0]?.progress === 1, 120000, 250)
        assert.equal(await sha256File(join(served.downloads, 'tampered.bin')), await sha256File(src))
        const banned = await waitFor('the liar banned', async () => (await api.call<Array<{ address: string; corruptPieces: number }>>('peers.banned', {})).find((x) => x.address === '127.0.0.2'), 60000, 250)

        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
        await page.goto(served.url)
        await page.locator('#nav-peers').click()
        const section = page.locator('section.banned', { hasText: 'Banned peers' })
        await section.waitFor({ timeout: 30000 })
        const item = section.locator('[data-banned-address="127.0.0.2"]')
        await item.getByText(`Banned: sent ${banned.corruptPieces} corrupt pieces`).waitFor()
        assert.match(await item.innerText(), /127\.0\.0\.2:\d+/)
        assert.match(await item.innerText(), /tampered\.bin/)

        // The same in the torrent's detail, Peers tab.
        await page.locator('#nav-transfers').click()
        await page.locator('.transfer-row', { hasText: 'tampered.bin' }).click()
        await page.getByRole('tab', { name: 'Peers' }).click()
        await page.getByRole('tabpanel').getByText(`Banned: sent ${banned.corruptPieces} corrupt pieces`).waitFor({ timeout: 30000 })
        await page.close()
      } finally { api.close() }
    })
  } finally {
    await new Promise<void>((r) => liar.destroy(() => r()))
    await browser.close()
    await served.stop()
    serveDir.cleanup()
  }
})
