import { writeFile } from 'node:fs/promises'
import { parse } from '../args.ts'
import { EngineError, fromFsError } from '../../engine/errors.ts'
import { buildShare } from '../../engine/share-builder.ts'
import { CreateOptionsSchema } from '../../contract/contract.ts'
import { bytes } from '../format.ts'

export const summary = 'write a .torrent file'
const HELP = `usage: shoal create <path> -o out.torrent [--announce URL]... [--private] [--piece-length N]
                    [--name NAME] [--comment TEXT]

Prints the info hash and magnet URI. --piece-length is in bytes (a power of two, 16384 to 67108864);
by default about a thousand pieces.`

export async function run (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    output: { type: 'string', short: 'o' }, announce: { type: 'string', multiple: true }, private: { type: 'boolean' },
    'piece-length': { type: 'string' }, name: { type: 'string' }, comment: { type: 'string' }
  })
  if (values.help) { console.log(HELP); return 0 }
  if (positionals.length !== 1) throw new EngineError('BAD_ARGUMENT', 'create needs exactly one file or folder')
  if (!values.output) throw new EngineError('BAD_ARGUMENT', 'create needs -o out.torrent')
  const parsed = CreateOptionsSchema.safeParse({
    ...(values.announce ? { announce: values.announce } : {}),
    ...(values.private ? { private: true } : {}),
    ...(values['piece-length'] !== undefined ? { pieceLength: Number(values['piece-length']) } : {}),
    ...(values.name ? { name: values.name } : {}),
    ...(values.comment ? { comment: values.comment } : {})
  })
  if (!parsed.success) {
    const i = parsed.error.issues[0]
    throw new EngineError('BAD_ARGUMENT', `--${String(i?.path[0] ?? '').replace('pieceLength', 'piece-length')}: ${i?.message ?? 'invalid'}`)
  }
  const tty = process.stderr.isTTY
  // Nothing else runs in this process: its own thread hashes too.
  const built = await buildShare([positionals[0]!], parsed.data, (p) => {
    if (tty) process.stderr.write(`\rhashing ${bytes(p.hashedBytes)} of ${bytes(p.totalBytes)}   `)
  }, { callingThreadHelps: true })
  if (tty) process.stderr.write('\n')
  try { await writeFile(values.output, built.torrentFile) } catch (err) { throw fromFsError(err, values.output, 'writing') }
  console.log(built.infoHash)
  const tr = (parsed.data.announce ?? []).map((a) => `&tr=${encodeURIComponent(a)}`).join('')
  console.log(`magnet:?xt=urn:btih:${built.infoHash}&dn=${encodeURIComponent(built.name)}${tr}`)
  return 0
}
