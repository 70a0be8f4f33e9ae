// Static security check of the Electron settings: zero HIGH findings in main/app and the preload,
// and the rules themselves catch a known-bad shell (so a pass means something).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { contentSecurityPolicy } from '../../main/app/csp.ts'
import { checkCsp, checkShell, type Finding } from './electron-security.ts'

const root = resolve(import.meta.dirname, '..', '..')
const shellFiles = () => [
  ...readdirSync(join(root, 'main/app')).filter((f) => f.endsWith('.ts')).map((f) => `main/app/${f}`),
  'preload/preload.ts'
].map((file) => ({ file, text: readFileSync(join(root, file), 'utf8') }))

const show = (fs: Finding[]) => fs.map((f) => `  ${f.severity} ${f.id} ${f.file}:${f.line} ${f.message}`).join('\n')

test('security check: no HIGH findings in the Electron shell and its CSP', (t) => {
  const findings = [...checkShell(shellFiles()), ...checkCsp(contentSecurityPolicy(null)), ...checkCsp(contentSecurityPolicy('http://127.0.0.1:5173'))]
  t.diagnostic(`findings:\n${show(findings) || '  none'}`)
  const high = findings.filter((f) => f.severity === 'HIGH')
  assert.equal(high.length, 0, `HIGH findings:\n${show(high)}`)
})

test('security check: the rules catch a WebTorrent-Desktop-style shell', () => {
  const bad = `
    import { BrowserWindow, shell, contextBridge, ipcRenderer, protocol } from 'electron'
    import remote from '@electron/remote'
    const win = new BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, webSecurity: false, enableBlinkFeatures: 'X' } })
    const other = new BrowserWindow({ width: 10 })
    win.loadURL('http://example.com/')
    win.webContents.on('new-window', (e, url) => shell.openExternal(url))
    contextBridge.exposeInMainWorld('api', ipcRenderer)
    contextBridge.exposeInMainWorld('api2', { send: ipcRenderer.send })
    protocol.registerSchemesAsPrivileged([{ scheme: 'x', privileges: { bypassCSP: true } }])
  `
  const ids = new Set(checkShell([{ file: 'bad.ts', text: bad }]).filter((f) => f.severity === 'HIGH').map((f) => f.id))
  for (const id of ['NODE_INTEGRATION', 'CONTEXT_ISOLATION', 'SANDBOX_EXPLICIT', 'WEB_SECURITY', 'BLINK_FEATURES', 'WEB_PREFERENCES',
    'LOAD_INSECURE_URL', 'OPEN_EXTERNAL', 'REMOTE_MODULE', 'EXPOSE_IPC_RENDERER', 'EXPOSE_IPC_METHOD', 'PROTOCOL_BYPASS_CSP',
    'NEW_WINDOW_HANDLER', 'NAVIGATION_HANDLER', 'PERMISSION_HANDLER', 'CSP_GLOBAL', 'IPC_SENDER_CHECK']) {
    assert.ok(ids.has(id), `rule ${id} did not fire`)
  }
  const csp = new Set(checkCsp("default-src *; script-src 'self' 'unsafe-eval' 'unsafe-inline' https://cdn.example").map((f) => f.id))
  for (const id of ['CSP_UNSAFE_EVAL', 'CSP_UNSAFE_INLINE_SCRIPT', 'CSP_REMOTE_SCRIPT', 'CSP_OBJECT_SRC']) assert.ok(csp.has(id), id)
})
