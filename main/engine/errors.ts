import type { ErrorCode, BridgeError } from '../contract/contract.ts'

/** Every failure the engine reports to a user: a code for programs, a sentence for people. */
export class EngineError extends Error {
  readonly code: ErrorCode
  /** The torrent concerned, when there is one (e.g. the existing one for DUPLICATE). */
  readonly infoHash: string | null
  constructor (code: ErrorCode, message: string, options?: { cause?: unknown; infoHash?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'EngineError'
    this.code = code
    this.infoHash = options?.infoHash ?? null
  }

  toBridge (): BridgeError {
    return { code: this.code, message: this.message }
  }
}

/** Maps a Node system error on a path to a clear EngineError; anything else becomes INTERNAL. */
export function fromFsError (err: unknown, path: string, doing: string): EngineError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new EngineError('DISK_FULL', `The disk is full while ${doing} ${path}. Free some space, then resume.`, { cause: err })
    case 'ENOENT':
      return new EngineError('PATH_UNREADABLE', `${path} does not exist (it may have been moved or deleted).`, { cause: err })
    case 'EACCES':
    case 'EPERM':
      return new EngineError('PATH_UNREADABLE', `No permission for ${path} while ${doing} it.`, { cause: err })
    case 'ENOTDIR':
    case 'EISDIR':
      return new EngineError('PATH_UNREADABLE', `${path} is not what was expected (file or folder) while ${doing} it.`, { cause: err })
    case 'EROFS':
      return new EngineError('PATH_UNREADABLE', `${path} is on a read-only file system.`, { cause: err })
    default:
      return new EngineError('INTERNAL', `Failed while ${doing} ${path}: ${(err as Error)?.message ?? String(err)}`, { cause: err })
  }
}

export function toEngineError (err: unknown): EngineError {
  if (err instanceof EngineError) return err
  const e = err as NodeJS.ErrnoException | undefined
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT') return fromFsError(err, e.path ?? 'the download folder', 'writing')
  return new EngineError('INTERNAL', e?.message ?? String(err), { cause: err })
}
