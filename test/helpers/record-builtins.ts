// Loaded with `--import` into a process under test: at exit it writes the Node built-in modules the
// process loaded (JSON, to $SHOAL_BUILTINS_OUT), so a test can check what a command pulls in.
import { writeFileSync } from 'node:fs'

const out = process.env.SHOAL_BUILTINS_OUT
if (out) {
  process.on('exit', () => {
    // moduleLoadList is undocumented (and untyped) but has listed what Node loaded since its first versions.
    const loaded = (process as unknown as { moduleLoadList: string[] }).moduleLoadList
    const builtins = loaded.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length))
    writeFileSync(out, JSON.stringify(builtins))
  })
}
