/** Rejects with a clear error when `promise` takes longer than `ms` (router libraries have no timeouts of their own). */
export function withTimeout<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
    timer.unref()
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
