// What the OS shows about transfers: a notification when a download completes, and overall
// progress on the taskbar / dock icon.
import { Notification, type BrowserWindow } from 'electron'
import type { TorrentSummary } from '../contract/contract.ts'
import { overallProgress } from './speed.ts'
import { ICON_PATH } from './paths.ts'

export function notifyDone (name: string, onClick: () => void): void {
  if (!Notification.isSupported()) return
  const n = new Notification({ title: 'Download complete', body: name, icon: ICON_PATH })
  n.on('click', onClick)
  n.show()
}

export function showProgress (win: BrowserWindow | null, torrents: TorrentSummary[]): void {
  if (!win || win.isDestroyed()) return
  const p = overallProgress(torrents)
  // -1 removes the bar; Electron wants 0..1 otherwise.
  win.setProgressBar(p === null ? -1 : p)
}
