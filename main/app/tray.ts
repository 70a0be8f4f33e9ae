// Tray icon with live speeds, show/hide, pause-all and quit.
import { Menu, Tray, nativeImage } from 'electron'
import type { GlobalStats } from '../contract/contract.ts'
import { formatSpeed } from './speed.ts'
import { TRAY_ICON_PATH } from './paths.ts'

export interface TrayActions {
  show(): void
  pauseAll(): void
  resumeAll(): void
  quit(): void
}

export class AppTray {
  private readonly tray: Tray
  private readonly actions: TrayActions
  private lastLabel = ''

  constructor (actions: TrayActions) {
    this.actions = actions
    this.tray = new Tray(nativeImage.createFromPath(TRAY_ICON_PATH))
    this.tray.setToolTip('Shoal')
    this.tray.on('click', () => actions.show())
    this.update({ downloadSpeed: 0, uploadSpeed: 0, peers: 0, dhtNodes: 0, listeningPort: 0, torrents: 0, blocklistRanges: 0, blocklistError: null, bannedPeers: 0 })
  }

  update (stats: GlobalStats): void {
    const label = `↓ ${formatSpeed(stats.downloadSpeed)}   ↑ ${formatSpeed(stats.uploadSpeed)}`
    if (label === this.lastLabel) return
    this.lastLabel = label
    this.tray.setToolTip(`Shoal — ${label}`)
    this.tray.setContextMenu(Menu.buildFromTemplate([
      { label, enabled: false },
      { type: 'separator' },
      { label: 'Show Shoal', click: () => this.actions.show() },
      { label: 'Pause all', click: () => this.actions.pauseAll() },
      { label: 'Resume all', click: () => this.actions.resumeAll() },
      { type: 'separator' },
      { label: 'Quit', click: () => this.actions.quit() }
    ]))
  }

  destroy (): void {
    this.tray.destroy()
  }
}
