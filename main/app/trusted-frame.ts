// Which frames may call the bridge: only the top frame of the app's own page, served from the
// app:// protocol (packaged) or the Vite dev server (development). Anything else — an iframe, a
// page the window was navigated to, a devtools extension — is refused before the host sees it.

/** The parts of Electron's WebFrameMain this check reads. */
export interface FrameLike {
  readonly url: string
  readonly parent: unknown
}

export const APP_SCHEME = 'app'
export const APP_HOST = 'shoal'
/** The URL the window loads in a packaged or built app. */
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`

export interface TrustedOrigins {
  /** e.g. http://127.0.0.1:5173 while developing; null otherwise. */
  devServerUrl: string | null
}

export function isAppUrl (raw: string, origins: TrustedOrigins): boolean {
  let u: URL
  try { u = new URL(raw) } catch { return false }
  // Custom schemes have an opaque origin ('null') in the WHATWG parser, so compare scheme and host.
  if (u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST) return true
  if (origins.devServerUrl) {
    try { return u.origin === new URL(origins.devServerUrl).origin } catch { return false }
  }
  return false
}

export function isTrustedFrame (frame: FrameLike | null | undefined, origins: TrustedOrigins): boolean {
  if (!frame) return false
  if (frame.parent !== null && frame.parent !== undefined) return false
  return isAppUrl(frame.url, origins)
}
