// The renderer's Content-Security-Policy: only the app's own scripts, no eval, no remote content.
// Styles allow 'unsafe-inline' because Svelte transitions insert <style> rules at run time.
export function contentSecurityPolicy (devServerUrl: string | null): string {
  // Vite's hot reload talks over a WebSocket to the dev server; nothing else may be contacted.
  const dev = devServerUrl ? ` ${new URL(devServerUrl).origin.replace(/^http/, 'ws')}` : ''
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "font-src 'self'",
    `connect-src 'self'${dev}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-src 'none'",
    "frame-ancestors 'none'"
  ].join('; ')
}
