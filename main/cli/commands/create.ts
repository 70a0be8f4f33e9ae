import { writeFile } from 'node:fs/promises'
import { parse } from '../args.ts'
import { EngineError, fromFsError } from '../../engine/errors.ts'
import { buildShare } from '../../engine/share-builder.ts'
import { HashPool } from '../../engine/hash-helpers.ts'
import { workerLanes } from '../../engine/piece-hasher.ts'
import type { CreateOptions } from '../../contract/contract.ts'
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
  // Its own thread hashes beside the workers; they start now, while this thread loads and checks
  // the rest (a worker takes 40-110 ms to start here, about a third of hashing 512 MiB).
  const hashing = { callingThreadHelps: true }
  const pool = new HashPool(workerLanes(hashing))
  pool.warm()
  const tty = process.stderr.isTTY
  let options: CreateOptions
  let built
  try {
    options = await checkedOptions(values)
    built = await buildShare([positionals[0]!], options, (p) => {
      if (tty) process.stderr.write(`\rhashing ${bytes(p.hashedBytes)} of ${bytes(p.totalBytes)}   `)
    }, { ...hashing, pool })
  } finally {
    pool.close()
  }
  if (tty) process.stderr.write('\n')
  try { await writeFile(values.output, built.torrentFile) } catch (err) { throw fromFsError(err, values.output, 'writing') }
  console.log(built.infoHash)
  const tr = (options.announce ?? []).map((a) => `&tr=${encodeURIComponent(a)}`).join('')
  console.log(`magnet:?xt=urn:btih:${built.infoHash}&dn=${encodeURIComponent(built.name)}${tr}`)
  return 0
}

interface CreateFlags { announce?: string[]; private?: boolean; 'piece-length'?: string; name?: string; comment?: string }

/**
 * The options as the contract's schema checks them. The schemas come with zod: loading them took
 * 27 ms of a 0.415 s `shoal create` of 512 MiB here (70 ms of `create --help`), so a plain
 * `create -o`, with nothing for them to check, does not load them.
 */
async function checkedOptions (values: CreateFlags): Promise<CreateOptions> {
  const given = {
    ...(values.announce ? { announce: values.announce } : {}),
    ...(values.private ? { private: true } : {}),
    ...(values['piece-length'] !== undefined ? { pieceLength: Number(values['piece-length']) } : {}),
    ...(values.name ? { name: values.name } : {}),
    ...(values.comment ? { comment: values.comment } : {})
  }
  if (Object.keys(given).length === 0) return {}
  const { CreateOptionsSchema } = await import('../../contract/contract.ts')
  const parsed = CreateOptionsSchema.safeParse(given)
  if (!parsed.success) {
    const i = parsed.error.issues[0]
    throw new EngineError('BAD_ARGUMENT', `--${String(i?.path[0] ?? '').replace('pieceLength', 'piece-length')}: ${i?.message ?? 'invalid'}`)
  }
  return parsed.data
}
