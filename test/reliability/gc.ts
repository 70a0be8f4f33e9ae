// A real garbage collection for memory figures, without needing `node --expose-gc` on the test
// runner: V8 exposes gc() to contexts created after the flag is set.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** heapUsed after a full collection. */
export function heapAfterGc (): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}
