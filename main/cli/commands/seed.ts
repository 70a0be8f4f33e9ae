import { parse, portOption } from '../args.ts'
import { COMMON_OPTIONS, openCliEngine, resumeKnown, untilSignal } from '../engine-for-cli.ts'
import { EngineError } from '../../engine/errors.ts'
import { bytes } from '../format.ts'

export const summary = 'share files or folders; prints the magnet URI, seeds until Ctrl+C'
const HELP = `usage: shoal seed <path...> [--announce URL]... [--private] [--no-dht] [--no-lsd] [--port N] [--data DIR]

Hashes the files, prints the magnet URI as the first line, then seeds until SIGINT or SIGTERM.
No tracker is written into the torrent unless you pass --announce.`

export async function run (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...COMMON_OPTIONS, private: { type: 'boolean' }, name: { type: 'string' } })
  if (values.help) { console.log(HELP); return 0 }
  if (positionals.length === 0) throw new EngineError('BAD_ARGUMENT', 'seed needs at least one file or folder to share')
  const engine = await openCliEngine({ data: values.data, port: portOption(values.port), noDht: values['no-dht'], noLsd: values['no-lsd'], noUtp: values['no-utp'] },
    values['dht-bootstrap'] ? { dhtBootstrap: values['dht-bootstrap'] } : {})
  try {
    const tty = process.stderr.isTTY
    let shared
    try {
      shared = await engine.share(positionals, {
        ...(values.announce ? { announce: values.announce } : {}),
        ...(values.private ? { private: true } : {}),
        ...(values.name ? { name: values.name } : {})
      }, (p) => {
        if (tty && p.phase === 'hashing') process.stderr.write(`\rhashing ${bytes(p.hashedBytes)} of ${bytes(p.totalBytes)}   `)
      })
    } catch (err) {
      // Already in this data folder's list: seed the stored copy.
      const infoHash = await resumeKnown(engine, err)
      const t = engine.list().find((x) => x.infoHash === infoHash)!
      shared = { infoHash: t.infoHash, magnetURI: t.magnetURI }
    }
    if (tty) process.stderr.write('\n')
    // listening before the lines that say it is seeding: whoever reads them may signal at once
    const stop = untilSignal()
    console.log(shared.magnetURI)
    console.error(`seeding ${shared.infoHash} on port ${engine.listeningPort}; Ctrl+C to stop`)
    await stop
    return 0
  } finally {
    await engine.close()
  }
}
