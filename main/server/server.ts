// `shoal serve`'s HTTP server: the built renderer, uploads of dropped files, and the contract over
// WebSocket at /ws. Every request needs the run's token; without it: 401 and nothing else. A client that keeps
// presenting wrong tokens is locked out for a while: 429 + Retry-After (FailureLimiter in auth.ts).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Host } from '../host/host.ts'
import { EngineError } from '../engine/errors.ts'
import { clientKey, FailureLimiter, hostHeaderAllowed, isLoopbackHost, presentsToken, tokenCookie, tokenSource, type LockoutOptions, type TokenSource } from './auth.ts'
import { sendStatic } from './static-files.ts'
import { UploadReceiver } from './uploads.ts'
import { createWsTransport, MAX_SOCKETS } from './ws-transport.ts'

export interface ServerOptions {
  host: Host
  token: string
  /** Folder of the built renderer (dist/renderer). */
  rendererDir: string
  /** Where dropped files are uploaded to: the download folder. */
  uploadRoot: () => string
  bind: { host: string; port: number }
  /** How wrong tokens are slowed down (see FailureLimiter); the defaults suit `shoal serve`. */
  lockout?: Partial<LockoutOptions>
}

export interface RunningServer {
  url: string
  port: number
  close(): Promise<void>
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // The token is in the first URL: never send it on.
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'"
}

const UPLOAD_STATUS: Partial<Record<EngineError['code'], number>> = { BAD_ARGUMENT: 400, UNSAFE_PATH: 400, DUPLICATE: 409, DISK_FULL: 507 }

function refuse (res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end(message)
}

function refuseUpgrade (socket: Duplex, status: string, extra = ''): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n${extra}Content-Length: 0\r\n\r\n`)
}

type Verdict = { source: TokenSource } | { status: 401 } | { status: 429; retryAfter: number }

/** The token check, slowed down for clients that keep presenting wrong ones. */
function authorize (limiter: FailureLimiter, req: IncomingMessage, url: URL, token: string): Verdict {
  const key = clientKey(req)
  const wait = limiter.lockedFor(key)
  if (wait > 0) return { status: 429, retryAfter: Math.ceil(wait / 1000) }
  const source = tokenSource(req, url, token)
  if (source) { limiter.success(key); return { source } }
  if (presentsToken(req, url)) limiter.failure(key)
  return { status: 401 }
}

function sameOrigin (req: IncomingMessage): boolean {
  const origin = req.headers.origin
  if (!origin) return true // not a browser page (the CLI, tests)
  try { return new URL(origin).host === req.headers.host } catch { return false }
}

export async function startServer (o: ServerOptions): Promise<RunningServer> {
  const loopback = isLoopbackHost(o.bind.host)
  const uploads = new UploadReceiver(o.uploadRoot)
  const wss = createWsTransport(o.host)
  const limiter = new FailureLimiter(o.lockout)

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (!hostHeaderAllowed(req, loopback)) return refuse(res, 403, 'Forbidden host name.')
    const verdict = authorize(limiter, req, url, o.token)
    if ('retryAfter' in verdict) {
      res.setHeader('retry-after', String(verdict.retryAfter))
      return refuse(res, 429, `Too many wrong tokens from this address: try again in ${verdict.retryAfter} s.`)
    }
    if (!('source' in verdict)) return refuse(res, 401, 'Unauthorized: open the address with the token that shoal serve printed.')
    const source = verdict.source
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v)
    if (source === 'query') res.setHeader('set-cookie', tokenCookie(o.token))

    if (url.pathname === '/api/upload') {
      if (req.method !== 'PUT') return refuse(res, 405, 'Use PUT.')
      try {
        const path = await uploads.receive(req, url.searchParams.get('batch') ?? '', url.searchParams.get('path') ?? '')
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ path }))
      } catch (err) {
        const e = err instanceof EngineError ? err : new EngineError('INTERNAL', (err as Error).message)
        req.resume()
        res.writeHead(UPLOAD_STATUS[e.code] ?? 500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: e.toBridge() }))
      }
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'Method not allowed.')
    await sendStatic(res, o.rendererDir, url.pathname)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) refuse(res, 500, 'Internal error.')
      else res.destroy(err as Error)
    })
  })

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname !== '/ws') return refuseUpgrade(socket, '404 Not Found')
    if (!hostHeaderAllowed(req, loopback)) return refuseUpgrade(socket, '403 Forbidden')
    // A page from another site must not drive the engine with the user's cookie.
    if (!sameOrigin(req)) return refuseUpgrade(socket, '403 Forbidden')
    const verdict = authorize(limiter, req, url, o.token)
    if ('retryAfter' in verdict) return refuseUpgrade(socket, '429 Too Many Requests', `Retry-After: ${verdict.retryAfter}\r\n`)
    if (!('source' in verdict)) return refuseUpgrade(socket, '401 Unauthorized')
    if (wss.clients.size >= MAX_SOCKETS) return refuseUpgrade(socket, '503 Service Unavailable', 'Retry-After: 5\r\n')
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.bind.port, o.bind.host, () => { server.off('error', reject); resolve() })
  })
  const port = (server.address() as AddressInfo).port
  const shownHost = o.bind.host.includes(':') ? `[${o.bind.host}]` : o.bind.host
  return {
    url: `http://${shownHost}:${port}/?token=${o.token}`,
    port,
    close: () => new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.terminate()
      wss.close()
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}
