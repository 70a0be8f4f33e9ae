// The page itself: refusal without the token, language and theme switching (persisted by the
// engine's settings), and keyboard multi-selection in the Transfers list.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { Browser, Page } from 'playwright-core'
import { tempDir } from '../helpers/fixtures.ts'
import { startServe, launchBrowser, WsApi, type Served } from './harness.ts'
import type { PageGlobals } from './page-helpers.ts'

let served: Served
let api: WsApi
let browser: Browser
const dir = tempDir('shoal-e2e-ui-')

before(async () => {
  served = await startServe(dir.path)
  api = await WsApi.open(served)
  browser = await launchBrowser()
})

after(async () => {
  api?.close()
  await browser?.close()
  await served?.stop()
  dir.cleanup()
})

const theme = (page: Page) => page.evaluate(() => {
  const w = globalThis as unknown as PageGlobals
  return { theme: w.document.documentElement.dataset.theme, bg: w.getComputedStyle((w.document as unknown as { body: unknown }).body).backgroundColor }
})

test('without the token the page is refused and shows no app', async () => {
  const page = await browser.newPage()
  const res = await page.goto(served.origin + '/')
  assert.equal(res?.status(), 401)
  assert.equal(await page.locator('#app').count(), 0)
  assert.match(await page.locator('body').innerText(), /Unauthorized/)
  await page.close()
})

test('language: English, Traditional Chinese, Simplified Chinese, kept across a reload', async () => {
  const page = await browser.newPage()
  await page.goto(served.url)
  await page.getByRole('button', { name: 'Settings' }).click()
  await page.locator('#setting-language').selectOption('zh-TW')
  await page.getByRole('navigation').getByText('傳輸').waitFor()
  assert.equal(await page.locator('html').getAttribute('lang'), 'zh-TW')
  await page.locator('#setting-language').selectOption('zh-CN')
  await page.getByRole('navigation').getByText('传输').waitFor()
  await page.reload()
  await page.getByRole('navigation').getByText('传输').waitFor()
  assert.equal((await api.call<{ language: string }>('settings.get')).language, 'zh-CN')
  await page.getByRole('button', { name: '设置' }).click()
  await page.locator('#setting-language').selectOption('en')
  await page.getByRole('navigation').getByText('Transfers').waitFor()
  await page.close()
})

test('theme: dark, light, and system following the OS', async () => {
  const page = await browser.newPage({ colorScheme: 'light' })
  await page.goto(served.url)
  await page.getByRole('button', { name: 'Settings' }).click()
  await page.locator('#setting-theme').selectOption('dark')
  await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.documentElement.dataset.theme === 'dark')
  assert.deepEqual(await theme(page), { theme: 'dark', bg: 'rgb(21, 23, 27)' })
  await page.locator('#setting-theme').selectOption('light')
  await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.documentElement.dataset.theme === 'light')
  assert.deepEqual(await theme(page), { theme: 'light', bg: 'rgb(245, 246, 248)' })
  await page.locator('#setting-theme').selectOption('system')
  await page.emulateMedia({ colorScheme: 'dark' })
  await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.documentElement.dataset.theme === 'dark')
  await page.emulateMedia({ colorScheme: 'light' })
  await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.documentElement.dataset.theme === 'light')
  await page.close()
})

test('settings are validated before they are sent', async () => {
  const page = await browser.newPage()
  await page.goto(served.url)
  await page.getByRole('button', { name: 'Settings' }).click()
  const port = page.locator('#setting-port')
  const before = (await api.call<{ port: number }>('settings.get')).port
  await port.fill('99999')
  await port.press('Enter')
  await page.getByText('Enter a whole number from 0 to 65535.').waitFor()
  assert.equal(await port.getAttribute('aria-invalid'), 'true')
  assert.equal((await api.call<{ port: number }>('settings.get')).port, before)
  await page.close()
})

test('keyboard: arrows move, Shift extends, Ctrl+A selects all, Space toggles', async () => {
  for (let i = 0; i < 3; i++) {
    const hash = `${i}`.repeat(40)
    await api.call('torrent.add', { source: { kind: 'uri', uri: `magnet:?xt=urn:btih:${hash}&dn=item-${i}` }, paused: true })
  }
  const page = await browser.newPage()
  await page.goto(served.url)
  const grid = page.getByRole('grid')
  await grid.waitFor()
  await page.locator('.transfer-row').nth(2).waitFor()
  await grid.focus()
  await page.keyboard.press('ArrowDown')
  await page.getByText('1 selected').waitFor()
  await page.keyboard.press('Shift+ArrowDown')
  await page.getByText('2 selected').waitFor()
  await page.keyboard.press('Control+a')
  await page.getByText('3 selected').waitFor()
  await page.keyboard.press('Space')
  await page.getByText('2 selected').waitFor()
  assert.equal(await page.locator('.transfer-row[aria-selected=true]').count(), 2)
  await page.keyboard.press('Escape')
  assert.equal(await page.locator('.transfer-row[aria-selected=true]').count(), 0)
  await page.close()
})
