#!/usr/bin/env node
// Renders assets/icon.svg to the PNGs the app and installers use. Needs librsvg's rsvg-convert
// (apt-get install librsvg2-bin); the PNGs are committed, so building the app does not.
import { execFileSync } from 'node:child_process'
import { resolve, dirname } from 'node:path'
import { mkdirSync } from 'node:fs'

const assets = resolve(dirname(new URL(import.meta.url).pathname), '..', 'assets')
mkdirSync(`${assets}/icons`, { recursive: true })
const render = (size, out) => execFileSync('rsvg-convert', ['-w', String(size), '-h', String(size), '-o', `${assets}/${out}`, `${assets}/icon.svg`])

render(512, 'icon.png')
render(32, 'tray.png')
for (const size of [16, 32, 48, 64, 128, 256, 512]) render(size, `icons/${size}x${size}.png`)
console.log('icons written to assets/')
