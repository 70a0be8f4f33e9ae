// The built renderer, served read-only from one folder.
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json'
}

/** Sends `urlPath` from `root`; unknown paths get index.html (one page app). Never leaves `root`. */
export async function sendStatic (res: ServerResponse, root: string, urlPath: string): Promise<void> {
  let rel: string
  try { rel = decodeURIComponent(urlPath) } catch { rel = '/' }
  const candidate = normalize(join(root, rel))
  const inside = candidate === root || candidate.startsWith(root.endsWith(sep) ? root : root + sep)
  let file = inside ? candidate : join(root, 'index.html')
  let info = await stat(file).catch(() => null)
  if (!info || info.isDirectory()) {
    file = join(root, 'index.html')
    info = await stat(file).catch(() => null)
  }
  if (!info) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('The web UI is not built: run npm run build.')
    return
  }
  const hashed = file.includes(`${sep}assets${sep}`)
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': hashed ? 'private, max-age=31536000, immutable' : 'no-cache'
  })
  createReadStream(file).pipe(res)
}
