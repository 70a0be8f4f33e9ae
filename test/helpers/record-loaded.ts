// Loaded with `--import` into a process under test: at exit it writes what the process loaded (JSON,
// to $SHOAL_LOADED_OUT): the Node built-in modules, and whether zod (the contract's schemas) was
// evaluated, so a test can check what a command pulls in.
import { writeFileSync } from 'node:fs'

export interface Loaded { builtins: string[]; zod: boolean }

const out = process.env.SHOAL_LOADED_OUT
if (out) {
  process.on('exit', () => {
    // moduleLoadList is undocumented (and untyped) but has listed what Node loaded since its first versions.
    const list = (process as unknown as { moduleLoadList: string[] }).moduleLoadList
    const builtins = list.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length))
    // zod 4 keeps its registry on globalThis from the moment its core is evaluated (bundled or not).
    const loaded: Loaded = { builtins, zod: '__zod_globalRegistry' in globalThis }
    writeFileSync(out, JSON.stringify(loaded))
  })
}
