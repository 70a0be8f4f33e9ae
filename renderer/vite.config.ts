import { defineConfig } from 'vite'
import { svelte } from '@sveltejs/vite-plugin-svelte'

// No node: imports here (scripts/check-layers.mjs holds renderer/ to browser code).
const pathOf = (rel: string) => decodeURIComponent(new URL(rel, import.meta.url).pathname)
const here = pathOf('.')

// Relative asset URLs: the same build loads from file:// in Electron and from `shoal serve`.
export default defineConfig({
  root: here,
  base: './',
  plugins: [svelte()],
  build: {
    outDir: pathOf('../dist/renderer'),
    emptyOutDir: true,
    target: 'es2023',
    chunkSizeWarningLimit: 1024
  }
})
