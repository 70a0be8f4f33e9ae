// Test fixtures: temp folders, random files, hashes, waiting. Real files on disk, nothing mocked.
import { mkdtempSync, rmSync, openSync, writeSync, closeSync, createReadStream, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createHash, randomBytes } from 'node:crypto'

export function tempDir (prefix = 'shoal-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) }
}

/** Writes `size` random bytes to `path` (in 1 MiB chunks) and returns the path. */
export function randomFile (path: string, size: number): string {
  mkdirSync(dirname(path), { recursive: true })
  const fd = openSync(path, 'w')
  let left = size
  while (left > 0) {
    const n = Math.min(left, 1 << 20)
    writeSync(fd, randomBytes(n))
    left -= n
  }
  closeSync(fd)
  return path
}

export function sha256File (path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256')
    createReadStream(path).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject)
  })
}

/** Polls `check` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T> (what: string, check: () => T | Promise<T>, timeoutMs = 30000, everyMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v) return v as NonNullable<T>
    } catch (err) { last = err }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/**
 * Calls `onFreed` with each ArrayBuffer this process frees by detaching it (`transfer(0)`, how
 * the engine's patches free memory before the collector would) until the returned function is
 * called.
 */
export function watchDetaches (onFreed: (buffer: ArrayBuffer) => void): () => void {
  // ES2024's ArrayBuffer.prototype.transfer, beyond the project's ES2023 lib
  const proto = ArrayBuffer.prototype as ArrayBuffer & { transfer: (this: ArrayBuffer, length?: number) => ArrayBuffer }
  const transfer = proto.transfer
  proto.transfer = function (this: ArrayBuffer, length?: number) {
    if (length === 0) onFreed(this)
    return transfer.call(this, length)
  }
  return () => { proto.transfer = transfer }
}
