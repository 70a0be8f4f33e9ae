export function findElectron (): { path: string | null; reason: string }
export function hasDisplay (): { ok: boolean; reason: string }
