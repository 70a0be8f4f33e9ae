// Torrent paths come from strangers: every file the engine touches must stay under its folder.
import { isAbsolute, relative, resolve } from 'node:path'
import { EngineError } from './errors.ts'

export function isInside (root: string, p: string): boolean {
  const rel = relative(resolve(root), resolve(p))
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/** Joins a checked torrent path under a folder; refuses (defence in depth) anything that escapes it. */
export function safeJoin (root: string, torrentPath: string): string {
  const p = resolve(root, ...torrentPath.split('/'))
  if (!isInside(root, p)) throw new EngineError('UNSAFE_PATH', `Refused to use ${torrentPath}: it is outside ${root}.`)
  return p
}
