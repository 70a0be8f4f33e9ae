export interface Toast { id: number; text: string; kind: 'info' | 'error' }

let next = 1
export const toasts = $state<{ list: Toast[] }>({ list: [] })

export function toast (text: string, kind: Toast['kind'] = 'info'): void {
  const id = next++
  toasts.list.push({ id, text, kind })
  setTimeout(() => dismiss(id), kind === 'error' ? 8000 : 3500)
}

export function dismiss (id: number): void {
  toasts.list = toasts.list.filter((t) => t.id !== id)
}
