#!/usr/bin/env -S MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=4194304 MALLOC_TRIM_THRESHOLD_=8388608 node --openssl-legacy-provider --max-semi-space-size=1
// `shoal <command>`: the engine without Electron. Each command lives in commands/<name>.ts and
// exports `run(argv): Promise<number>` (the exit code).
//
// The flag above: qBittorrent encrypts its connections with RC4, which Node's OpenSSL 3 keeps in
// its legacy provider; without it the protocol library falls back to RC4 in JavaScript, and a
// transfer with qBittorrent runs 20-70% slower (npm run bench). Electron's BoringSSL has RC4 built in.
// The malloc settings (README, Performance): one arena for all threads; and fixed thresholds, since
// glibc's moving mmap threshold sometimes settled exactly at a seeder's 1 MiB read runs, and each
// run was then mapped and unmapped anew (70,000 page faults and 0.9 s of system CPU per 512 MiB).
import { enableCompileCache } from 'node:module'
import { EngineError } from '../engine/errors.ts'

// Every command starts a fresh process: caching compiled code between runs (Node's own on-disk
// cache) saves about a third of the start-up CPU, most of a short command like `create`.
enableCompileCache()

type Command = { run: (argv: string[]) => Promise<number>; summary: string }
const COMMANDS: Record<string, () => Promise<Command>> = {
  seed: () => import('./commands/seed.ts'),
  get: () => import('./commands/get.ts'),
  create: () => import('./commands/create.ts'),
  nat: () => import('./commands/nat.ts'),
  serve: () => import('./commands/serve.ts')
}

const USAGE = `usage: shoal <command> [options]

  seed <path...>      share files or folders; prints the magnet URI, seeds until Ctrl+C
  get <source>        download a magnet URI, .torrent file or info hash
  create <path>       write a .torrent file
  nat                 show port mapping, NAT type and reachability
  serve               run the engine with the web UI on http://127.0.0.1

Run 'shoal <command> --help' for a command's options.`

async function main (): Promise<number> {
  const [name, ...rest] = process.argv.slice(2)
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE)
    return name ? 0 : 2
  }
  const load = COMMANDS[name]
  if (!load) {
    console.error(`shoal: unknown command '${name}'\n\n${USAGE}`)
    return 2
  }
  const command = await load()
  return command.run(rest)
}

main().then((code) => { process.exitCode = code }, (err: unknown) => {
  const message = err instanceof EngineError ? err.message : (err instanceof Error ? err.message : String(err))
  console.error(`shoal: ${message}`)
  if (process.env.SHOAL_DEBUG) console.error(err)
  process.exitCode = 1
})
