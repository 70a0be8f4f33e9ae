// What the app was asked to open: magnet links and .torrent files from the command line (first
// start, second instance) or from macOS open-url / open-file.
import { isAbsolute, resolve } from 'node:path'
import type { AddSource } from '../contract/contract.ts'

export function launchTarget (arg: string, cwd: string): AddSource | null {
  if (/^magnet:\?/i.test(arg)) return { kind: 'uri', uri: arg }
  // Flags (Electron's and Chromium's) and the app path itself are not targets.
  if (arg.startsWith('-')) return null
  if (/\.torrent$/i.test(arg)) return { kind: 'torrentFile', path: isAbsolute(arg) ? arg : resolve(cwd, arg) }
  return null
}

/** Targets in argv; argv[0] is the executable (and argv[1] the app folder when not packaged). */
export function launchTargets (argv: readonly string[], cwd: string): AddSource[] {
  return argv.slice(1).map((a) => launchTarget(a, cwd)).filter((t): t is AddSource => t !== null)
}

/** A magnet link somewhere in pasted text (the first one), or null. */
export function magnetInText (text: string): string | null {
  const m = /magnet:\?[^\s"'<>]+/i.exec(text)
  return m ? m[0] : null
}
