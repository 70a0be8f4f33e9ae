// The one app window: sandboxed, isolated, no Node; it can neither navigate away nor open windows,
// and links leave only as http(s) to the user's browser.
import { BrowserWindow, shell, session } from 'electron'
import { APP_URL, isAppUrl, type TrustedOrigins } from './trusted-frame.ts'
import { isSafeExternalUrl } from './external-links.ts'
import { ICON_PATH, PRELOAD_PATH } from './paths.ts'

export interface WindowOptions extends TrustedOrigins {
  show: boolean
}

export function createMainWindow (o: WindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    width: 1200,
    height: 780,
    minWidth: 720,
    minHeight: 480,
    show: false,
    title: 'Shoal',
    icon: ICON_PATH,
    backgroundColor: '#0f172a',
    webPreferences: {
      preload: PRELOAD_PATH,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false
    }
  })
  guardNavigation(win, o)
  win.once('ready-to-show', () => { if (o.show) win.show() })
  void win.loadURL(o.devServerUrl ?? APP_URL)
  return win
}

function openExternally (url: string): void {
  if (isSafeExternalUrl(url)) void shell.openExternal(url)
}

function guardNavigation (win: BrowserWindow, o: TrustedOrigins): void {
  const wc = win.webContents
  wc.setWindowOpenHandler(({ url }) => {
    openExternally(url)
    return { action: 'deny' }
  })
  wc.on('will-navigate', (event, url) => {
    // A reload of the app's own page is fine; anything else goes to the browser or nowhere.
    if (isAppUrl(url, o)) return
    event.preventDefault()
    openExternally(url)
  })
  wc.on('will-redirect', (event, url) => { if (!isAppUrl(url, o)) event.preventDefault() })
  wc.on('will-attach-webview', (event) => event.preventDefault())
}

/** Only "copy to clipboard" (the magnet link button) is granted, and only to the app's page. */
const GRANTED = new Set(['clipboard-sanitized-write'])

export function restrictPermissions (o: TrustedOrigins): void {
  session.defaultSession.setPermissionRequestHandler((wc, permission, callback) => callback(GRANTED.has(permission) && isAppUrl(wc.getURL(), o)))
  session.defaultSession.setPermissionCheckHandler((_wc, permission, origin) => GRANTED.has(permission) && isAppUrl(origin, o))
}
