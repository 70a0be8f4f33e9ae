// Electron main process: one instance, one window, the engine and NAT service behind the host,
// the IPC bridge, and the OS integration (magnet/.torrent handling, tray, menu, notifications).
import { app, clipboard, dialog, ipcMain, nativeTheme, type BrowserWindow } from 'electron'
import { resolve } from 'node:path'
import type { AddSource, Settings } from '../contract/contract.ts'
import { Engine } from '../engine/engine.ts'
import { EngineError } from '../engine/errors.ts'
import { createHost, type Host } from '../host/host.ts'
import { NatService, mappedPeerPort } from '../nat/nat-service.ts'
import { registerAppScheme, serveRenderer, applyDevServerCsp } from './app-protocol.ts'
import { electronDesktop } from './desktop-adapter.ts'
import { forwardEvents, registerCallHandler } from './ipc.ts'
import { launchTargets, magnetInText } from './launch-targets.ts'
import { installMenu } from './menu.ts'
import { notifyDone, showProgress } from './os-integration.ts'
import { RENDERER_DIR } from './paths.ts'
import { openAppStore } from './settings-store.ts'
import { shutdown } from './shutdown.ts'
import { AppTray } from './tray.ts'
import { isTrustedFrame, type TrustedOrigins } from './trusted-frame.ts'
import { createMainWindow, restrictPermissions } from './window.ts'

// Tests and portable setups point the app at its own data folder (before the instance lock,
// which is per data folder).
if (process.env.SHOAL_USER_DATA) app.setPath('userData', resolve(process.env.SHOAL_USER_DATA))
const origins: TrustedOrigins = { devServerUrl: !app.isPackaged ? (process.env.SHOAL_DEV_SERVER_URL ?? null) : null }

let win: BrowserWindow | null = null
let host: Host | null = null
let quitting = false
let closed = false
/** Targets that arrive before the engine is up. */
const pending: AddSource[] = []

registerAppScheme()

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  pending.push(...launchTargets(process.argv.slice(process.defaultApp ? 1 : 0), process.cwd()))
  app.on('second-instance', (_e, argv, cwd) => {
    for (const t of launchTargets(argv.slice(process.defaultApp ? 1 : 0), cwd)) void open(t)
    showWindow()
  })
  // macOS hands links and files over with events rather than argv; they can come before 'ready'.
  app.on('open-url', (e, url) => { e.preventDefault(); void open({ kind: 'uri', uri: url }) })
  app.on('open-file', (e, path) => { e.preventDefault(); void open({ kind: 'torrentFile', path }) })
  app.whenReady().then(start).catch((err: unknown) => {
    dialog.showErrorBox('Shoal could not start', err instanceof Error ? err.message : String(err))
    app.exit(1)
  })
}

function showWindow (): void {
  if (!win || win.isDestroyed()) return
  if (win.isMinimized()) win.restore()
  win.show()
  win.focus()
}

async function open (source: AddSource): Promise<void> {
  if (!host) { pending.push(source); return }
  try {
    await host.call('torrent.add', { source })
  } catch (err) {
    // Opening a link twice just brings the app forward.
    if (err instanceof EngineError && err.code === 'DUPLICATE') return
    const message = err instanceof Error ? err.message : String(err)
    if (win && !win.isDestroyed()) void dialog.showMessageBox(win, { type: 'error', message: 'Could not add the torrent', detail: message })
  }
}

async function openEngine (store: ReturnType<typeof openAppStore>): Promise<Engine> {
  try {
    return await Engine.open({ store, keepHashWorkers: true })
  } catch (err) {
    // The saved port is taken (another client?): run on a free one this session and say so.
    if (!(err instanceof EngineError) || err.code !== 'BAD_ARGUMENT') throw err
    dialog.showErrorBox('Port in use', `${err.message}\nShoal is using a free port for now.`)
    return await Engine.open({ store, overrides: { port: 0 }, keepHashWorkers: true })
  }
}

function registerProtocolClient (): void {
  if (process.defaultApp && process.argv[1]) app.setAsDefaultProtocolClient('magnet', process.execPath, [resolve(process.argv[1])])
  else app.setAsDefaultProtocolClient('magnet')
}

async function start (): Promise<void> {
  app.setAppUserModelId('org.shoal.Shoal')
  registerProtocolClient()
  restrictPermissions(origins)
  if (origins.devServerUrl) applyDevServerCsp(origins.devServerUrl)
  else serveRenderer(RENDERER_DIR)

  const store = openAppStore(app.getPath('downloads'))
  const engine = await openEngine(store)
  const settings = engine.getSettings()
  nativeTheme.themeSource = settings.theme
  const nat = new NatService({ port: engine.listeningPort, stunServers: settings.stunServers, upnp: settings.upnp })
  nat.on('changed', (s) => engine.setAnnouncedPort(mappedPeerPort(s)))
  nat.start().catch((err: unknown) => console.error('shoal: NAT check failed', err))

  const h = createHost({ engine, nat, desktop: electronDesktop(() => win), transport: 'ipc', version: app.getVersion() })
  host = h
  registerCallHandler(ipcMain, h, (frame) => isTrustedFrame(frame, origins))
  const events = forwardEvents(h, (channel, event, payload) => {
    if (win && !win.isDestroyed()) win.webContents.send(channel, event, payload)
  })

  const allHashes = () => engine.list().map((t) => t.infoHash)
  const pauseAll = () => { const ih = allHashes(); if (ih.length) void h.call('torrent.pause', { infoHashes: ih }).catch(() => {}) }
  const resumeAll = () => { const ih = allHashes(); if (ih.length) void h.call('torrent.resume', { infoHashes: ih }).catch(() => {}) }
  const pickAndAdd = async () => {
    const files = await h.call('shell.pickTorrentFiles', {}) as string[]
    for (const path of files) await open({ kind: 'torrentFile', path })
  }
  const pickAndShare = async () => {
    const paths = await h.call('shell.pickShareFolder', {}) as string[]
    if (paths.length) await h.call('torrent.share', { paths }).catch((err: unknown) => console.error('shoal: share failed', err))
  }

  const tray = new AppTray({ show: showWindow, pauseAll, resumeAll, quit: () => app.quit() })
  installMenu({
    openTorrentFiles: () => void pickAndAdd(),
    shareFolder: () => void pickAndShare(),
    addMagnetFromClipboard: () => void clipboard.readText().then((text) => { const m = magnetInText(text); if (m) return open({ kind: 'uri', uri: m }) }),
    pauseAll,
    resumeAll,
    quit: () => app.quit()
  }, process.platform === 'darwin', !app.isPackaged)

  h.subscribe((event, payload) => {
    if (event === 'stats.changed') tray.update(payload as Parameters<AppTray['update']>[0])
    else if (event === 'torrents.changed') showProgress(win, engine.list())
    else if (event === 'torrent.done') notifyDone((payload as { name: string }).name, showWindow)
    else if (event === 'settings.changed') {
      const s = payload as Settings
      nativeTheme.themeSource = s.theme
      void nat.update({ port: engine.listeningPort, upnp: s.upnp, stunServers: s.stunServers })
    }
  })

  win = createMainWindow({ ...origins, show: !settings.startMinimised })
  // Closing the window keeps transfers running in the tray; Quit (menu, tray, Cmd+Q) ends them.
  win.on('close', (e) => { if (!quitting) { e.preventDefault(); win?.hide() } })

  app.on('before-quit', (e) => {
    if (closed) return
    e.preventDefault()
    if (quitting) return
    quitting = true
    void shutdown({ stopEvents: () => events.stop(), nat, engine }).then((r) => {
      if (r.timedOut) console.error(`shoal: quit deadline reached after ${r.ms} ms`)
      closed = true
      tray.destroy()
      app.quit()
    })
  })

  for (const t of pending.splice(0)) await open(t)
}
