import type { BridgeError, ErrorCode } from '../contract.ts'

/** A failed call, as thrown to the UI by either transport. */
export class ApiError extends Error {
  readonly code: ErrorCode
  constructor (e: BridgeError) {
    super(e.message)
    this.name = 'ApiError'
    this.code = e.code
  }
}

export function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
