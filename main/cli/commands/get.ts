import { resolve } from 'node:path'
import { parse, portOption } from '../args.ts'
import { COMMON_OPTIONS, openCliEngine, resumeKnown, untilSignal } from '../engine-for-cli.ts'
import { EngineError } from '../../engine/errors.ts'
import type { TorrentSummary } from '../../contract/contract.ts'
import { bar, bytes, duration } from '../format.ts'

export const summary = 'download a magnet URI, .torrent file or info hash'
const HELP = `usage: shoal get <magnet|file.torrent|infohash> --out DIR [--peer HOST:PORT]... [--announce URL]...
                 [--no-dht] [--no-lsd] [--port N] [--data DIR] [--json] [--timeout SECONDS]

Downloads into DIR and exits 0 once every piece is verified; non-zero with a one-line reason
otherwise. Re-run with the same --data to continue an interrupted download.
--json prints one JSON object per line: {"type":"progress",...}, then "done" or "error".`

type Outcome = { ok: true; t: TorrentSummary } | { ok: false; code: string; message: string }

export async function run (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...COMMON_OPTIONS, out: { type: 'string', short: 'o' }, peer: { type: 'string', multiple: true },
    json: { type: 'boolean' }, timeout: { type: 'string' }
  })
  if (values.help) { console.log(HELP); return 0 }
  const source = positionals[0]
  if (!source || positionals.length > 1) throw new EngineError('BAD_ARGUMENT', 'get needs exactly one magnet URI, .torrent file or info hash')
  if (!values.out) throw new EngineError('BAD_ARGUMENT', 'get needs --out DIR (where to save the download)')
  const timeoutS = values.timeout === undefined ? null : Number(values.timeout)
  if (timeoutS !== null && !(timeoutS > 0)) throw new EngineError('BAD_ARGUMENT', `--timeout must be a positive number of seconds, not '${values.timeout}'`)
  const json = !!values.json
  const emit = (o: Record<string, unknown>) => { if (json) console.log(JSON.stringify(o)) }
  const fail = (code: string, message: string): number => {
    if (json) emit({ type: 'error', code, message })
    else console.error(`shoal: ${message}`)
    return 1
  }

  const engine = await openCliEngine({ data: values.data, port: portOption(values.port), noDht: values['no-dht'], noLsd: values['no-lsd'], noUtp: values['no-utp'], out: values.out },
    values['dht-bootstrap'] ? { dhtBootstrap: values['dht-bootstrap'] } : {})
  try {
    const peers = values.peer ?? []
    let infoHash: string
    try {
      const t = await engine.add(source, { savePath: resolve(values.out), peers, ...(values.announce ? { announce: values.announce } : {}) })
      infoHash = t.infoHash
    } catch (err) {
      // Already known to this data folder: continue it where it stopped, but only into the same
      // folder. Continuing into the stored one would report a path where the files are not.
      const known = err instanceof EngineError && err.code === 'DUPLICATE' ? engine.list().find((x) => x.infoHash === err.infoHash) : undefined
      if (known && resolve(known.savePath) !== resolve(values.out)) {
        return fail('DUPLICATE', `this data folder already has "${known.name}" saving to ${known.savePath}; ` +
          `run with --out ${known.savePath} to continue it there, or with another --data`)
      }
      infoHash = await resumeKnown(engine, err, peers)
    }

    const tty = !json && process.stderr.isTTY
    const outcome = await new Promise<Outcome | 'signal'>((done) => {
      const started = Date.now()
      const check = (): void => {
        const t = engine.list().find((x) => x.infoHash === infoHash)
        if (!t) return finish({ ok: false, code: 'INTERNAL', message: 'the torrent disappeared' })
        emit({ type: 'progress', infoHash, name: t.name, state: t.state, progress: t.progress, downloaded: t.downloaded, size: t.size, downloadSpeed: t.downloadSpeed, peers: t.peers + t.seeds, eta: t.eta })
        if (tty) process.stderr.write(`\r${bar(t.progress)} ${(t.progress * 100).toFixed(1).padStart(5)}%  ${bytes(t.downloadSpeed)}/s  ${t.peers + t.seeds} peers  ETA ${duration(t.eta)}  ${t.state}   `)
        if (t.state === 'error') return finish({ ok: false, code: t.errorCode ?? 'INTERNAL', message: t.error ?? 'the download failed' })
        if (t.progress >= 1 && t.state !== 'checking' && t.state !== 'metadata') return finish({ ok: true, t })
        if (timeoutS !== null && Date.now() - started > timeoutS * 1000) {
          return finish({ ok: false, code: 'INTERNAL', message: `not complete after ${timeoutS} s (${(t.progress * 100).toFixed(1)}%, ${t.peers + t.seeds} peers)` })
        }
      }
      const poll = setInterval(check, 250)
      // The poll alone finished up to 250 ms after the last piece was verified.
      const onDone = (e: { infoHash: string }): void => { if (e.infoHash === infoHash) check() }
      engine.on('torrent.done', onDone)
      const finish = (o: Outcome | 'signal') => { clearInterval(poll); engine.off('torrent.done', onDone); done(o) }
      void untilSignal().then(() => finish('signal'))
    })
    if (tty) process.stderr.write('\n')
    if (outcome === 'signal') return fail('INTERRUPTED', 'interrupted; run the same command again to continue')
    if (!outcome.ok) return fail(outcome.code, outcome.message)
    emit({ type: 'done', infoHash, name: outcome.t.name, size: outcome.t.size, path: resolve(values.out, outcome.t.name) })
    if (!json) console.log(`${outcome.t.name}: ${bytes(outcome.t.size)} downloaded and verified`)
    return 0
  } finally {
    await engine.close()
  }
}
