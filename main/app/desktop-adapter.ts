// The host's desktop operations on Electron's shell and dialogs.
import { dialog, shell, type BrowserWindow } from 'electron'
import { EngineError } from '../engine/errors.ts'
import type { DesktopAdapter } from '../host/host.ts'

export function electronDesktop (window: () => BrowserWindow | null): DesktopAdapter {
  const pick = async (options: Electron.OpenDialogOptions): Promise<string[]> => {
    const win = window()
    const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options)
    return r.canceled ? [] : r.filePaths
  }
  return {
    async openPath (path) {
      const failure = await shell.openPath(path)
      if (failure) throw new EngineError('PATH_UNREADABLE', `Could not open ${path}: ${failure}`)
    },
    async revealPath (path) {
      shell.showItemInFolder(path)
    },
    pickTorrentFiles: () => pick({
      title: 'Open torrent file',
      properties: ['openFile', 'multiSelections'],
      filters: [{ name: 'Torrent files', extensions: ['torrent'] }]
    }),
    pickShareFolder: () => pick({
      title: 'Choose a folder to share',
      properties: ['openDirectory']
    })
  }
}
