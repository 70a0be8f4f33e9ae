// Which view is open and what is selected in Transfers.
import { SvelteSet } from 'svelte/reactivity'
import type { Filter, SortKey } from './torrents.svelte.ts'

export type View = 'transfers' | 'library' | 'peers' | 'network' | 'settings'
export const VIEWS: View[] = ['transfers', 'library', 'peers', 'network', 'settings']

class Ui {
  view = $state<View>('transfers')
  filter = $state<Filter>('all')
  search = $state('')
  sortKey = $state<SortKey>('addedAt')
  sortDir = $state<1 | -1>(1)
  readonly selected = new SvelteSet<string>()
  /** The row keyboard focus is on (and the detail panel shows). */
  focused = $state<string | null>(null)
  anchor: string | null = null
  /** Info hashes waiting for the remove dialog. */
  removing = $state.raw<string[] | null>(null)
}

export const ui = new Ui()

export function sortBy (key: SortKey): void {
  if (ui.sortKey === key) ui.sortDir = ui.sortDir === 1 ? -1 : 1
  else { ui.sortKey = key; ui.sortDir = key === 'name' || key === 'eta' ? 1 : -1 }
}

/** Click semantics of a desktop list: plain, Ctrl/Cmd toggles, Shift extends from the anchor. */
export function selectRow (order: string[], hash: string, mode: { toggle: boolean; range: boolean }): void {
  if (mode.range && ui.anchor && order.includes(ui.anchor)) {
    const a = order.indexOf(ui.anchor)
    const b = order.indexOf(hash)
    const [lo, hi] = a < b ? [a, b] : [b, a]
    const range = order.slice(lo, hi + 1)
    if (!mode.toggle) ui.selected.clear()
    for (const h of range) ui.selected.add(h)
  } else if (mode.toggle) {
    if (ui.selected.has(hash)) ui.selected.delete(hash)
    else ui.selected.add(hash)
    ui.anchor = hash
  } else {
    ui.selected.clear()
    ui.selected.add(hash)
    ui.anchor = hash
  }
  ui.focused = hash
}

export function selectAll (order: string[]): void {
  for (const h of order) ui.selected.add(h)
}

export function clearSelection (): void {
  ui.selected.clear()
  ui.focused = null
  ui.anchor = null
}
