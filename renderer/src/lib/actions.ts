// What the user can do, in one place for every view: each reports its outcome as a toast.
import { getApi } from './api/index.ts'
import { errorMessage } from './api/errors.ts'
import { isTorrentFile, type DroppedItem } from './api/dropped.ts'
import { t } from './i18n/i18n.svelte.ts'
import { toast } from './state/toasts.svelte.ts'
import { shareName, startJob } from './state/shares.svelte.ts'
import { torrents } from './state/torrents.svelte.ts'

const MAGNETISH = /^(magnet:\?\S+|[0-9a-f]{40}|[a-z2-7]{32})$/i

export function looksLikeMagnet (text: string): boolean {
  return MAGNETISH.test(text.trim())
}

async function report<T> (work: () => Promise<T>): Promise<T | null> {
  try { return await work() } catch (err) { toast(errorMessage(err), 'error'); return null }
}

export async function addUri (text: string): Promise<boolean> {
  const uri = text.trim()
  if (!looksLikeMagnet(uri)) { toast(t('add.notMagnet'), 'error'); return false }
  try {
    const { infoHash } = await getApi().call('torrent.add', { source: { kind: 'uri', uri } })
    toast(t('add.added', { name: torrents.get(infoHash)?.name ?? infoHash }))
    return true
  } catch (err) {
    toast(t('add.failed', { message: errorMessage(err) }), 'error')
    return false
  }
}

function base64Of (buf: ArrayBuffer): string {
  const bytes = new Uint8Array(buf)
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}

export async function addTorrentFiles (files: File[]): Promise<void> {
  for (const f of files) {
    try {
      const { infoHash } = await getApi().call('torrent.add', { source: { kind: 'torrentBytes', base64: base64Of(await f.arrayBuffer()) } })
      toast(t('add.added', { name: torrents.get(infoHash)?.name ?? f.name }))
    } catch (err) {
      toast(t('add.failed', { message: errorMessage(err) }), 'error')
    }
  }
}

/** A drop: .torrent files are added; everything else becomes one share. */
export async function handleDrop (items: DroppedItem[]): Promise<void> {
  const torrentFiles = items.filter(isTorrentFile)
  const data = items.filter((i) => !isTorrentFile(i))
  if (torrentFiles.length) await addTorrentFiles(torrentFiles.flatMap((i) => (i.file ? [i.file] : [])))
  if (data.length) await sharePaths(data)
}

async function sharePaths (items: DroppedItem[]): Promise<void> {
  const job = startJob(items.map((i) => i.name).join(', '))
  try {
    const paths = await getApi().pathsForDrop(items, (p) => { job.doneBytes = p.sentBytes; job.totalBytes = p.totalBytes })
    if (job.phase === 'uploading') job.phase = 'scanning'
    job.name = shareName(paths)
    const r = await getApi().call('torrent.share', { paths })
    Object.assign(job, { jobId: r.jobId, infoHash: r.infoHash, magnetURI: r.magnetURI, phase: 'done', doneBytes: job.totalBytes })
  } catch (err) {
    Object.assign(job, { phase: 'error', error: errorMessage(err) })
  }
}

export async function pause (hashes: string[]): Promise<void> {
  if (hashes.length) await report(() => getApi().call('torrent.pause', { infoHashes: hashes }))
}

export async function resume (hashes: string[]): Promise<void> {
  if (hashes.length) await report(() => getApi().call('torrent.resume', { infoHashes: hashes }))
}

export async function remove (hashes: string[], deleteData: boolean): Promise<void> {
  if (hashes.length) await report(() => getApi().call('torrent.remove', { infoHashes: hashes, deleteData }))
}

export async function copyText (text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    // No clipboard permission (plain http on another host): the old way still works on a click.
    const area = document.createElement('textarea')
    area.value = text
    document.body.append(area)
    area.select()
    const ok = document.execCommand('copy')
    area.remove()
    return ok
  }
}

export async function copyMagnet (magnetURI: string): Promise<void> {
  if (await copyText(magnetURI)) toast(t('copied'))
}

export async function exportTorrent (infoHash: string): Promise<void> {
  const r = await report(() => getApi().call('torrent.exportTorrent', { infoHash }))
  if (!r) return
  const bin = atob(r.base64)
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0))
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/x-bittorrent' }))
  const a = document.createElement('a')
  a.href = url
  a.download = `${r.name}.torrent`
  a.click()
  setTimeout(() => URL.revokeObjectURL(url), 10000)
}

export async function openPath (infoHash: string, reveal: boolean, fileIndex?: number): Promise<void> {
  await report(() => getApi().call('shell.openPath', { infoHash, reveal, ...(fileIndex !== undefined ? { fileIndex } : {}) }))
}
