// What a user does in the page, done the way the browser does it: real clicks and keys, and the
// DOM events a drop or a paste fires.
import type { Page } from 'playwright-core'

/** Drops files (name → bytes) on the window, as dragging them from a file manager does. */
export async function dropFiles (page: Page, files: Array<{ name: string; bytes: Buffer }>): Promise<void> {
  await page.evaluate(async (list) => {
    const dt = new DataTransfer()
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name))
    for (const type of ['dragenter', 'dragover', 'drop']) {
      document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }))
    }
  }, files.map((f) => ({ name: f.name, b64: f.bytes.toString('base64') })))
}

/** Ctrl/Cmd+V outside any text field, with `text` on the clipboard. */
export async function pasteText (page: Page, text: string): Promise<void> {
  await page.evaluate((t) => {
    const dt = new DataTransfer()
    dt.setData('text/plain', t)
    document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }))
  }, text)
}

export function row (page: Page, name: string) {
  return page.locator('.transfer-row', { hasText: name })
}

/** Waits until the row's state badge and progress read as given. */
export async function waitForRow (page: Page, name: string, state: string, progress?: string, timeout = 60000): Promise<void> {
  await page.waitForFunction(({ name, state, progress }) => {
    const r = [...document.querySelectorAll('.transfer-row')].find((el) => el.textContent?.includes(name))
    if (!r) return false
    const text = r.textContent ?? ''
    return text.includes(state) && (progress === undefined || text.includes(progress))
  }, { name, state, progress }, { timeout, polling: 200 })
}
