// The application menu with the usual shortcuts; file actions go through the same host calls as the UI.
import { Menu, type MenuItemConstructorOptions } from 'electron'

export interface MenuActions {
  openTorrentFiles(): void
  shareFolder(): void
  addMagnetFromClipboard(): void
  pauseAll(): void
  resumeAll(): void
  quit(): void
}

export function installMenu (actions: MenuActions, isMac: boolean): void {
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { label: 'Open Torrent File…', accelerator: 'CmdOrCtrl+O', click: () => actions.openTorrentFiles() },
      { label: 'Share Folder…', accelerator: 'CmdOrCtrl+Shift+O', click: () => actions.shareFolder() },
      { label: 'Add Magnet from Clipboard', accelerator: 'CmdOrCtrl+Shift+V', click: () => actions.addMagnetFromClipboard() },
      { type: 'separator' },
      { label: 'Pause All', accelerator: 'CmdOrCtrl+Shift+P', click: () => actions.pauseAll() },
      { label: 'Resume All', accelerator: 'CmdOrCtrl+Shift+R', click: () => actions.resumeAll() },
      ...(isMac ? [] : [{ type: 'separator' } as const, { label: 'Quit', accelerator: 'CmdOrCtrl+Q', click: () => actions.quit() }])
    ]
  }
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' } as const] : []),
    file,
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        { role: 'toggleDevTools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' }
      ]
    },
    { role: 'windowMenu' }
  ]
  Menu.setApplicationMenu(Menu.buildFromTemplate(template))
}
