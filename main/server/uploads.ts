// Dropped files in a browser have no path on this machine: the page uploads them here, into the
// download folder, and then shares them from there. Names are checked segment by segment, nothing
// is overwritten, and nothing is written outside the folder.
import { createWriteStream } from 'node:fs'
import { access, mkdir, unlink } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import { extname, join, resolve, sep } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { EngineError, fromFsError } from '../engine/errors.ts'

const BATCH = /^[A-Za-z0-9_-]{1,64}$/
// Path separators and what Windows forbids (control characters are checked apart): a share must open anywhere.
const BAD_CHARS = /[<>:"/\\|?*]/
const hasControl = (s: string) => [...s].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127)
const MAX_DEPTH = 32
const BATCH_TTL_MS = 60 * 60 * 1000

/** The checked segments of a '/'-separated relative path, or an UNSAFE_PATH error. */
export function safeSegments (relPath: string): string[] {
  const parts = relPath.split('/')
  if (parts.length > MAX_DEPTH) throw new EngineError('UNSAFE_PATH', 'The dropped folder is nested too deeply.')
  for (const p of parts) {
    if (!p || p === '.' || p === '..' || p.length > 255 || BAD_CHARS.test(p) || hasControl(p) || p.trim() !== p || p.endsWith('.')) {
      throw new EngineError('UNSAFE_PATH', `"${relPath.slice(0, 200)}" is not a safe file name to write.`)
    }
  }
  return parts
}

async function exists (p: string): Promise<boolean> {
  return access(p).then(() => true, () => false)
}

async function freeName (dir: string, name: string, isFile: boolean): Promise<string> {
  if (!(await exists(join(dir, name)))) return name
  const ext = isFile ? extname(name) : ''
  const stem = ext ? name.slice(0, -ext.length) : name
  for (let n = 1; n < 10000; n++) {
    const candidate = `${stem} (${n})${ext}`
    if (!(await exists(join(dir, candidate)))) return candidate
  }
  throw new EngineError('DUPLICATE', `Too many files named "${name}" in the download folder.`)
}

export class UploadReceiver {
  /** batch id → dropped top-level name → the free name it got on disk. */
  private readonly batches = new Map<string, { at: number; tops: Map<string, string> }>()
  private readonly root: () => string

  constructor (root: () => string) {
    this.root = root
  }

  /** Writes the request body to `relPath` under the download folder; returns the top-level item's path. */
  async receive (req: IncomingMessage, batch: string, relPath: string): Promise<string> {
    if (!BATCH.test(batch)) throw new EngineError('BAD_ARGUMENT', 'An upload needs a batch id of letters, digits, - or _.')
    const parts = safeSegments(relPath)
    const root = resolve(this.root())
    await mkdir(root, { recursive: true }).catch((err: unknown) => { throw fromFsError(err, root, 'creating') })
    const top = await this.topName(batch, root, parts[0]!, parts.length === 1)
    const target = resolve(root, top, ...parts.slice(1))
    if (!target.startsWith(root + sep)) throw new EngineError('UNSAFE_PATH', 'That file would be written outside the download folder.')
    await mkdir(resolve(target, '..'), { recursive: true }).catch((err: unknown) => { throw fromFsError(err, target, 'creating') })
    try {
      // 'wx': never replace a file that is already there.
      await pipeline(req, createWriteStream(target, { flags: 'wx' }))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') await unlink(target).catch(() => {})
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new EngineError('DUPLICATE', `${relPath} was already uploaded.`)
      throw fromFsError(err, target, 'writing')
    }
    return join(root, top)
  }

  private async topName (batch: string, root: string, name: string, isFile: boolean): Promise<string> {
    const now = Date.now()
    for (const [id, b] of this.batches) if (now - b.at > BATCH_TTL_MS) this.batches.delete(id)
    let b = this.batches.get(batch)
    if (!b) { b = { at: now, tops: new Map() }; this.batches.set(batch, b) }
    let top = b.tops.get(name)
    if (!top) {
      top = await freeName(root, name, isFile)
      b.tops.set(name, top)
    }
    return top
  }
}
