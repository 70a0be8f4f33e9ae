// strace attached to a process the test already runs (for one it starts, put strace in front).
import { spawn } from 'node:child_process'
import { waitFor } from './fixtures.ts'

export interface Attached {
  /** Detaches (SIGINT) and waits for strace to exit, so `out` is complete. */
  stop: () => Promise<void>
}

/** Attaches `strace <options> -o out -p pid`; resolves once every thread is traced. */
export async function attachStrace (pid: number, options: string[], out: string): Promise<Attached> {
  const st = spawn('strace', [...options, '-o', out, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = new Promise<void>((resolve) => st.once('exit', () => resolve()))
  let err = ''
  st.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  try {
    await waitFor('strace to attach', () => err.includes('attached'), 10000, 20)
  } catch (e) {
    st.kill('SIGINT')
    throw new Error(`${(e as Error).message}: ${err.trim()}`, { cause: e })
  }
  await new Promise((resolve) => setTimeout(resolve, 300)) // -f attaches thread by thread
  return {
    stop: async () => {
      if (st.exitCode === null && st.signalCode === null) st.kill('SIGINT')
      await exited
    }
  }
}
