// Clean quit: stop sending events, remove port mappings, stop announcing and flush resume data
// (engine.close), all within a deadline so a hung router or tracker never keeps the app alive.
export interface Closable { close(): Promise<void> }

export interface ShutdownParts {
  stopEvents: () => void
  nat: Closable | null
  engine: Closable | null
}

export const QUIT_DEADLINE_MS = 3000

export async function shutdown (parts: ShutdownParts, deadlineMs = QUIT_DEADLINE_MS): Promise<{ ms: number; timedOut: boolean }> {
  const t0 = Date.now()
  parts.stopEvents()
  const work = Promise.allSettled([parts.nat?.close(), parts.engine?.close()])
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), deadlineMs) })
  const outcome = await Promise.race([work.then(() => 'done' as const), deadline])
  clearTimeout(timer)
  return { ms: Date.now() - t0, timedOut: outcome === 'timeout' }
}
