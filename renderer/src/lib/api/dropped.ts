// What a drop gives us, read before the event ends (the browser empties the DataTransfer after).
export interface DroppedItem {
  /** The top-level File (Electron gives it a path, folders included). */
  file: File | null
  /** The same item as a file-system entry, to walk folders in a browser. */
  entry: FileSystemEntry | null
  name: string
}

export function droppedItems (dt: DataTransfer): DroppedItem[] {
  const out: DroppedItem[] = []
  const items = [...dt.items].filter((i) => i.kind === 'file')
  if (items.length) {
    for (const item of items) {
      const file = item.getAsFile()
      const entry = item.webkitGetAsEntry?.() ?? null
      out.push({ file, entry, name: entry?.name ?? file?.name ?? 'file' })
    }
    return out
  }
  for (const file of dt.files) out.push({ file, entry: null, name: file.name })
  return out
}

export interface DroppedFile { relPath: string; file: File }

function readAll (reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => {
    const all: FileSystemEntry[] = []
    const next = () => reader.readEntries((batch) => {
      if (!batch.length) { resolve(all); return }
      all.push(...batch)
      next()
    }, reject)
    next()
  })
}

function fileOf (entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject))
}

/** Every file under a dropped item, with its path relative to the drop ('folder/sub/file'). */
export async function filesOf (item: DroppedItem): Promise<DroppedFile[]> {
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<DroppedFile[]> => {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name
    if (entry.isFile) return [{ relPath: rel, file: await fileOf(entry as FileSystemFileEntry) }]
    const children = await readAll((entry as FileSystemDirectoryEntry).createReader())
    const nested = await Promise.all(children.map((c) => walk(c, rel)))
    return nested.flat()
  }
  if (item.entry) return walk(item.entry, '')
  return item.file ? [{ relPath: item.name, file: item.file }] : []
}

export function isTorrentFile (item: DroppedItem): boolean {
  return !item.entry?.isDirectory && /\.torrent$/i.test(item.name)
}
