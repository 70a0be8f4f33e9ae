// A chunk store whose files live wherever the user keeps them: sharing several dropped items from
// different folders seeds them in place instead of copying them under one folder.
import FsChunkStore from 'fs-chunk-store'

export function mappedPathStore (filePaths: string[]): typeof FsChunkStore {
  return class MappedPathStore extends FsChunkStore {
    constructor (chunkLength: number, opts: Record<string, unknown> = {}) {
      super(chunkLength, opts)
      // fs-chunk-store opens files lazily from file.path, so re-pointing them here is enough.
      this.files.forEach((f, i) => { f.path = filePaths[i] ?? f.path })
    }
  }
}
