// What a user does in the page, done the way the browser does it: real clicks and keys, and the
// DOM events a drop or a paste fires.
import type { Page } from 'playwright-core'

/**
 * The page's globals used by the callbacks below, which run in the browser. The Node project has
 * no DOM types, and adding them would let main/ use browser globals unnoticed.
 */
export interface PageGlobals {
  DataTransfer: new () => { items: { add(f: unknown): void }; setData(type: string, value: string): void }
  File: new (parts: unknown[], name: string) => unknown
  DragEvent: new (type: string, init: object) => unknown
  ClipboardEvent: new (type: string, init: object) => unknown
  document: { body: { dispatchEvent(e: unknown): boolean }; documentElement: { dataset: Record<string, string | undefined> }; querySelectorAll(sel: string): Iterable<{ textContent: string | null }> }
  navigator: { clipboard: { readText(): Promise<string> } }
  getComputedStyle(el: unknown): { backgroundColor: string }
}

/** Drops files (name → bytes) on the window, as dragging them from a file manager does. */
export async function dropFiles (page: Page, files: Array<{ name: string; bytes: Buffer }>): Promise<void> {
  await page.evaluate((list) => {
    const w = globalThis as unknown as PageGlobals
    const dt = new w.DataTransfer()
    for (const f of list) dt.items.add(new w.File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name))
    for (const type of ['dragenter', 'dragover', 'drop']) {
      w.document.body.dispatchEvent(new w.DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }))
    }
  }, files.map((f) => ({ name: f.name, b64: f.bytes.toString('base64') })))
}

/** Ctrl/Cmd+V outside any text field, with `text` on the clipboard. */
export async function pasteText (page: Page, text: string): Promise<void> {
  await page.evaluate((t) => {
    const w = globalThis as unknown as PageGlobals
    const dt = new w.DataTransfer()
    dt.setData('text/plain', t)
    w.document.body.dispatchEvent(new w.ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }))
  }, text)
}

export function row (page: Page, name: string) {
  return page.locator('.transfer-row', { hasText: name })
}

/** Waits until the row's state badge and progress read as given. */
export async function waitForRow (page: Page, name: string, state: string, progress?: string, timeout = 60000): Promise<void> {
  await page.waitForFunction(({ name, state, progress }) => {
    const r = [...(globalThis as unknown as PageGlobals).document.querySelectorAll('.transfer-row')].find((el) => el.textContent?.includes(name))
    if (!r) return false
    const text = r.textContent ?? ''
    return text.includes(state) && (progress === undefined || text.includes(progress))
  }, { name, state, progress }, { timeout, polling: 200 })
}
