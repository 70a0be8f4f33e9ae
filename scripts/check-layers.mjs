#!/usr/bin/env node
// Fails the build when an import crosses a layer boundary (see README "Layers").
// Uses TypeScript's own parser so type-only imports are told apart from value imports,
// and follows relative imports so a plain-Node entry point cannot reach Electron indirectly.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs'
import { join, relative, resolve, dirname, sep } from 'node:path'
import { builtinModules } from 'node:module'
import ts from 'typescript'

const root = resolve(dirname(new URL(import.meta.url).pathname), '..')
const rel = (p) => relative(root, p).split(sep).join('/')

/** Folders that must run in plain Node: no electron, no electron-store, nothing from the shell. */
const PLAIN = ['main/engine/', 'main/nat/', 'main/cli/', 'main/server/', 'main/contract/', 'main/store/', 'main/host/']
/** Entry points of the CLI and headless server: their whole import graph must stay plain. */
const PLAIN_ENTRIES = ['main/cli/shoal.ts']
const ELECTRON_ONLY = new Set(['electron', 'electron-store'])
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]))

function walk (dir, out = []) {
  if (!existsSync(dir)) return out
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p, out)
    else if (/\.(ts|svelte)$/.test(name) && !name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

function scriptOf (file) {
  const text = readFileSync(file, 'utf8')
  if (!file.endsWith('.svelte')) return text
  return [...text.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n')
}

/** @returns {{spec: string, typeOnly: boolean}[]} */
function importsOf (file) {
  const sf = ts.createSourceFile(file, scriptOf(file), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const found = []
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      let typeOnly
      if (ts.isImportDeclaration(node)) {
        const c = node.importClause
        typeOnly = !!c && (c.isTypeOnly || (!c.name && !!c.namedBindings && ts.isNamedImports(c.namedBindings) &&
          c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)))
      } else {
        typeOnly = node.isTypeOnly
      }
      found.push({ spec: node.moduleSpecifier.text, typeOnly })
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0]) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      found.push({ spec: node.arguments[0].text, typeOnly: false })
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ spec: node.argument.literal.text, typeOnly: true })
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return found
}

function resolveRelative (from, spec) {
  if (!spec.startsWith('.')) return null
  const base = resolve(dirname(from), spec)
  for (const cand of [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(cand) && statSync(cand).isFile()) return cand
  }
  return base
}

const violations = []
const files = [...walk(join(root, 'main')), ...walk(join(root, 'preload')), ...walk(join(root, 'renderer'))]

for (const file of files) {
  const r = rel(file)
  for (const { spec, typeOnly } of importsOf(file)) {
    const target = resolveRelative(file, spec)
    const t = target ? rel(target) : null
    if (PLAIN.some((p) => r.startsWith(p))) {
      if (ELECTRON_ONLY.has(spec)) violations.push(`${r}: imports '${spec}' (main/engine, nat, cli, server, contract, store must run in plain Node)`)
      if (t && !t.startsWith('main/') ) violations.push(`${r}: imports '${spec}' outside main/`)
      if (t && t.startsWith('main/app/')) violations.push(`${r}: imports the Electron shell '${spec}'`)
    }
    if (r.startsWith('renderer/')) {
      if (t && !t.startsWith('renderer/')) {
        if (!t.startsWith('main/contract/')) violations.push(`${r}: imports '${spec}'; the renderer may import only the contract's types`)
        else if (!typeOnly) violations.push(`${r}: imports '${spec}' as a value; use 'import type' (the renderer takes only the contract's types)`)
      }
      if (ELECTRON_ONLY.has(spec) || NODE_BUILTINS.has(spec)) violations.push(`${r}: imports '${spec}'; the renderer runs sandboxed`)
    }
    if (r.startsWith('preload/')) {
      if (t && !t.startsWith('main/contract/') && !t.startsWith('preload/')) violations.push(`${r}: imports '${spec}'; the preload may import only the contract`)
      if (!t && spec !== 'electron') violations.push(`${r}: imports package '${spec}'; the preload bundles only the contract and electron`)
    }
  }
}

// Whole import graph of the plain entry points.
for (const entry of PLAIN_ENTRIES) {
  const start = join(root, entry)
  if (!existsSync(start)) continue
  const seen = new Set()
  const stack = [[start, [entry]]]
  while (stack.length) {
    const [file, chain] = stack.pop()
    if (seen.has(file)) continue
    seen.add(file)
    for (const { spec } of importsOf(file)) {
      if (ELECTRON_ONLY.has(spec)) violations.push(`${chain.join(' -> ')}: reaches '${spec}'`)
      const target = resolveRelative(file, spec)
      if (target && existsSync(target)) stack.push([target, [...chain, rel(target)]])
    }
  }
}

if (violations.length) {
  console.error(`Layer check failed (${violations.length}):\n  ${violations.join('\n  ')}`)
  process.exit(1)
}
console.log(`Layer check passed (${files.length} files)`)
