// Shared option parsing for the CLI commands, on node:util parseArgs.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { EngineError } from '../engine/errors.ts'

export function parse<T extends NonNullable<ParseArgsConfig['options']>> (argv: string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals, strict: true })
  } catch (err) {
    throw new EngineError('BAD_ARGUMENT', (err as Error).message)
  }
}

export function portOption (value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new EngineError('BAD_ARGUMENT', `--port must be a number from 0 to 65535, not '${value}'`)
  return n
}
