// Links leave the app only as http(s) URLs handed to the user's browser; every other scheme
// (file:, javascript:, smb:, custom handlers) is refused.
export function isSafeExternalUrl (raw: string): boolean {
  let u: URL
  try { u = new URL(raw) } catch { return false }
  return (u.protocol === 'https:' || u.protocol === 'http:') && u.username === '' && u.password === ''
}
