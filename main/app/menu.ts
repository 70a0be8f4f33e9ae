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

/** `developer`: reload and devtools in the View menu (unpackaged builds only). */
export function installMenu (actions: MenuActions, isMac: boolean, developer: boolean): void {
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
        ...(developer ? [{ role: 'reload' } as const, { role: 'toggleDevTools' } as const, { type: 'separator' } as const] : []),
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
