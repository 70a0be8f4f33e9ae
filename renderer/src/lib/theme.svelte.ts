import type { Theme } from './contract.ts'

const media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null
const os = $state({ dark: media?.matches ?? false })
media?.addEventListener('change', (e) => { os.dark = e.matches })

/** 'system' follows the OS, live. */
export function effectiveTheme (setting: Theme | undefined): 'light' | 'dark' {
  if (setting === 'light' || setting === 'dark') return setting
  return os.dark ? 'dark' : 'light'
}
