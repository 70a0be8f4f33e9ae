// Serves the built renderer from app://shoal/ with the CSP header: a real origin for the
// sender-frame check, and a policy that applies before any script runs (a file:// page gets no
// response headers).
import { protocol, net, session } from 'electron'
import { pathToFileURL } from 'node:url'
import { join, normalize, sep } from 'node:path'
import { APP_HOST, APP_SCHEME, isAppUrl } from './trusted-frame.ts'
import { contentSecurityPolicy } from './csp.ts'

/** Must run before app 'ready'. */
export function registerAppScheme (): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }
  ])
}

export function serveRenderer (rendererDir: string): void {
  const root = normalize(rendererDir + sep)
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url)
    const rel = decodeURIComponent(url.pathname).replace(/^\/+/, '') || 'index.html'
    const file = normalize(join(root, rel))
    if (url.host !== APP_HOST || !file.startsWith(root)) return new Response('Not found', { status: 404 })
    const res = await net.fetch(pathToFileURL(file).toString())
    const headers = new Headers(res.headers)
    headers.set('Content-Security-Policy', contentSecurityPolicy(null))
    headers.set('X-Content-Type-Options', 'nosniff')
    return new Response(res.body, { status: res.status, headers })
  })
}

/** In development the page comes from Vite: give its responses the same policy. */
export function applyDevServerCsp (devServerUrl: string): void {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    if (!isAppUrl(details.url, { devServerUrl })) { callback({}); return }
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicy(devServerUrl)] } })
  })
}
