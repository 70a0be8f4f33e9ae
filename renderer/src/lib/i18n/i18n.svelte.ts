import type { Language } from '../contract.ts'
import { en, type MessageKey, type Messages } from './en.ts'
import { zhTW } from './zh-TW.ts'
import { zhCN } from './zh-CN.ts'

const TABLES: Record<Language, Messages> = { en, 'zh-TW': zhTW, 'zh-CN': zhCN }
export const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', 'zh-TW': '繁體中文', 'zh-CN': '简体中文' }

const current = $state<{ lang: Language }>({ lang: 'en' })

export function setLanguage (lang: Language): void {
  current.lang = lang
  document.documentElement.lang = lang
}

export function language (): Language {
  return current.lang
}

/** The message in the current language, with {placeholders} filled in. */
export function t (key: MessageKey, params?: Record<string, string | number>): string {
  const text = TABLES[current.lang][key]
  if (!params) return text
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m))
}

export type { MessageKey }
