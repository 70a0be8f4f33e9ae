// A static security check of the Electron shell, after Electronegativity's checks (which no longer
// parses current TypeScript and pulls in eslint 7 / TypeScript 4.2): it reads main/app and the
// preload with TypeScript's parser and reports each risky setting with a severity.
import ts from 'typescript'

export type Severity = 'HIGH' | 'MEDIUM' | 'LOW'
export interface Finding { id: string; severity: Severity; file: string; line: number; message: string }

const WINDOW_CLASSES = new Set(['BrowserWindow', 'BrowserView', 'WebContentsView'])
/** webPreferences that must be present with exactly this value. */
const REQUIRED: Record<string, boolean> = { contextIsolation: true, sandbox: true, nodeIntegration: false }
/** webPreferences that must not have this value. */
const FORBIDDEN: Record<string, { value: boolean; id: string }> = {
  nodeIntegration: { value: true, id: 'NODE_INTEGRATION' },
  nodeIntegrationInWorker: { value: true, id: 'NODE_INTEGRATION_WORKER' },
  nodeIntegrationInSubFrames: { value: true, id: 'NODE_INTEGRATION_SUBFRAMES' },
  contextIsolation: { value: false, id: 'CONTEXT_ISOLATION' },
  sandbox: { value: false, id: 'SANDBOX' },
  webSecurity: { value: false, id: 'WEB_SECURITY' },
  allowRunningInsecureContent: { value: true, id: 'INSECURE_CONTENT' },
  experimentalFeatures: { value: true, id: 'EXPERIMENTAL_FEATURES' },
  webviewTag: { value: true, id: 'WEBVIEW_TAG' },
  enableRemoteModule: { value: true, id: 'REMOTE_MODULE' }
}

function propName (p: ts.ObjectLiteralElementLike): string | null {
  return p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : null
}

function literalBool (e: ts.Expression): boolean | null {
  if (e.kind === ts.SyntaxKind.TrueKeyword) return true
  if (e.kind === ts.SyntaxKind.FalseKeyword) return false
  return null
}

function isCallOf (node: ts.Node, object: string, method: string): node is ts.CallExpression {
  return ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) &&
    node.expression.name.text === method && ts.isIdentifier(node.expression.expression) && node.expression.expression.text === object
}

/** Whether an enclosing `if` or `&&` tests the URL with isSafeExternalUrl before the call. */
function guardedByUrlCheck (node: ts.Node): boolean {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    const cond = ts.isIfStatement(n) ? n.expression : ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken ? n.left : null
    if (cond && cond.getText().includes('isSafeExternalUrl(')) return true
    if (ts.isFunctionLike(n)) return false
  }
  return false
}

export function checkSource (file: string, text: string): Finding[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const out: Finding[] = []
  const add = (node: ts.Node, id: string, severity: Severity, message: string) =>
    out.push({ id, severity, file, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1, message })

  const visit = (node: ts.Node): void => {
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && WINDOW_CLASSES.has(node.expression.text)) {
      const opts = node.arguments?.[0]
      const wp = opts && ts.isObjectLiteralExpression(opts)
        ? opts.properties.find((p) => propName(p) === 'webPreferences')
        : undefined
      const prefs = wp && ts.isPropertyAssignment(wp) && ts.isObjectLiteralExpression(wp.initializer) ? wp.initializer : null
      if (!prefs) {
        add(node, 'WEB_PREFERENCES', 'HIGH', `${node.expression.text} without an inline webPreferences object: its security settings cannot be checked`)
      } else {
        const values = new Map<string, ts.Expression>()
        for (const p of prefs.properties) { const n = propName(p); if (n && ts.isPropertyAssignment(p)) values.set(n, p.initializer) }
        for (const [key, want] of Object.entries(REQUIRED)) {
          const v = values.get(key)
          if (!v || literalBool(v) !== want) add(v ?? prefs, `${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}_EXPLICIT`, 'HIGH', `webPreferences.${key} must be set to ${want}`)
        }
        for (const [key, rule] of Object.entries(FORBIDDEN)) {
          const v = values.get(key)
          if (v && literalBool(v) === rule.value) add(v, rule.id, 'HIGH', `webPreferences.${key}: ${rule.value}`)
        }
        if (values.has('enableBlinkFeatures')) add(values.get('enableBlinkFeatures')!, 'BLINK_FEATURES', 'HIGH', 'enableBlinkFeatures turns on unvetted Chromium features')
        if (values.has('preload') && !ts.isIdentifier(values.get('preload')!)) add(values.get('preload')!, 'PRELOAD_PATH', 'LOW', 'preload path should be a fixed constant')
      }
    }
    if (isCallOf(node, 'shell', 'openExternal') && !guardedByUrlCheck(node)) {
      add(node, 'OPEN_EXTERNAL', 'HIGH', 'shell.openExternal with a URL not checked by isSafeExternalUrl')
    }
    if ((ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && node.moduleSpecifier.text === '@electron/remote') ||
      (ts.isCallExpression(node) && node.getText().startsWith("require('@electron/remote"))) {
      add(node, 'REMOTE_MODULE', 'HIGH', '@electron/remote gives the renderer the main process')
    }
    if (ts.isPropertyAssignment(node) && propName(node) === 'bypassCSP' && literalBool(node.initializer) === true) {
      add(node, 'PROTOCOL_BYPASS_CSP', 'HIGH', 'a privileged scheme that bypasses the CSP')
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'loadURL') {
      const a = node.arguments[0]
      if (a && ts.isStringLiteralLike(a) && /^http:/i.test(a.text)) add(node, 'LOAD_INSECURE_URL', 'HIGH', `loads ${a.text} over plain http`)
      if (a && ts.isStringLiteralLike(a) && /^https:/i.test(a.text)) add(node, 'LOAD_REMOTE_URL', 'HIGH', `loads remote content ${a.text}`)
    }
    if (isCallOf(node, 'contextBridge', 'exposeInMainWorld')) {
      const api = node.arguments[1]
      if (api && api.getText().match(/^ipcRenderer\b/)) add(node, 'EXPOSE_IPC_RENDERER', 'HIGH', 'the whole ipcRenderer is exposed to the page')
    }
    if (ts.isPropertyAssignment(node) && ts.isPropertyAccessExpression(node.initializer) &&
      /^ipcRenderer\.(invoke|send|sendSync|on)$/.test(node.initializer.getText())) {
      add(node, 'EXPOSE_IPC_METHOD', 'HIGH', `${node.initializer.getText()} handed to the page unwrapped (any channel)`)
    }
    if (ts.isObjectLiteralExpression(node) && node.properties.some((p) => propName(p) === 'role' && ts.isPropertyAssignment(p) &&
      ts.isStringLiteral(p.initializer) && p.initializer.text === 'toggleDevTools')) {
      add(node, 'DEVTOOLS_MENU', 'LOW', 'developer tools reachable from the menu')
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return out
}

/** Checks over the whole shell, not one file: the handlers that must exist somewhere. */
export function checkShell (files: Array<{ file: string; text: string }>): Finding[] {
  const out = files.flatMap((f) => checkSource(f.file, f.text))
  const all = files.map((f) => f.text).join('\n')
  const need: Array<[RegExp, string, string]> = [
    [/setWindowOpenHandler\(/, 'NEW_WINDOW_HANDLER', 'new windows are not intercepted (setWindowOpenHandler)'],
    [/on\('will-navigate'/, 'NAVIGATION_HANDLER', 'navigation is not intercepted (will-navigate)'],
    [/setPermissionRequestHandler\(/, 'PERMISSION_HANDLER', 'web permission requests are not handled (setPermissionRequestHandler)'],
    [/Content-Security-Policy/, 'CSP_GLOBAL', 'no Content-Security-Policy is set on the renderer'],
    [/senderFrame/, 'IPC_SENDER_CHECK', 'IPC handlers do not look at the sender frame']
  ]
  for (const [re, id, message] of need) {
    if (!re.test(all)) out.push({ id, severity: 'HIGH', file: '(shell)', line: 0, message })
  }
  return out
}

/** Rates a policy string like a CSP evaluator does for the cases that matter here. */
export function checkCsp (csp: string): Finding[] {
  const out: Finding[] = []
  const dirs = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([k, ...v]) => [k!, v]))
  const script = dirs.get('script-src') ?? dirs.get('default-src')
  const add = (id: string, severity: Severity, message: string) => out.push({ id, severity, file: '(csp)', line: 0, message })
  if (!script) add('CSP_NO_SCRIPT_SRC', 'HIGH', 'no script-src or default-src')
  else {
    if (script.includes("'unsafe-eval'")) add('CSP_UNSAFE_EVAL', 'HIGH', "script-src allows 'unsafe-eval'")
    if (script.includes("'unsafe-inline'")) add('CSP_UNSAFE_INLINE_SCRIPT', 'HIGH', "script-src allows 'unsafe-inline'")
    if (script.some((s) => s === '*' || /^https?:/.test(s) || s === 'data:' || s === 'blob:')) add('CSP_REMOTE_SCRIPT', 'HIGH', 'script-src allows scripts from elsewhere')
  }
  const obj = dirs.get('object-src') ?? dirs.get('default-src')
  if (!obj || !obj.includes("'none'")) add('CSP_OBJECT_SRC', 'HIGH', "object-src is not 'none'")
  if (!dirs.get('base-uri')?.includes("'none'")) add('CSP_BASE_URI', 'MEDIUM', "base-uri is not 'none'")
  if ((dirs.get('style-src') ?? []).includes("'unsafe-inline'")) add('CSP_UNSAFE_INLINE_STYLE', 'LOW', "style-src allows 'unsafe-inline' (Svelte transitions)")
  return out
}
