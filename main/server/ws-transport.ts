// The contract over WebSocket: `{id, call, args}` in, `{id, result}` or `{id, error}` out, and
// `{event, payload}` pushed for every host event. A thin layer over the host: no handlers here.
import { WebSocketServer, type WebSocket, type RawData } from 'ws'
import type { BridgeError } from '../contract/contract.ts'
import type { Host } from '../host/host.ts'
import { EngineError, toEngineError } from '../engine/errors.ts'

/** Room for the largest call: 64 MiB of base64 .torrent bytes plus the envelope. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024 + 64 * 1024
/** A client that reads this far behind is dropped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024
/** Calls one socket may have running at once; past this, its socket is not read until one ends. */
export const MAX_IN_FLIGHT = 32
/** Open sockets at most (a browser tab holds one): each gets every event, so they cannot pile up. */
export const MAX_SOCKETS = 64
/** Ids are echoed back: a megabyte id would be a megabyte in every reply. */
export const MAX_ID_LENGTH = 128

type Id = string | number
export type ClientMessage = { id: Id; call: string; args?: unknown }
export type ServerMessage =
  | { id: Id | null; result: unknown }
  | { id: Id | null; error: BridgeError }
  | { event: string; payload: unknown }

function parseMessage (data: RawData, isBinary: boolean): ClientMessage | { id: Id | null; error: BridgeError } {
  if (isBinary) return { id: null, error: { code: 'BAD_ARGUMENT', message: 'Messages are JSON text.' } }
  let msg: unknown
  try { msg = JSON.parse(data.toString()) } catch { return { id: null, error: { code: 'BAD_ARGUMENT', message: 'The message is not valid JSON.' } } }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return { id: null, error: { code: 'BAD_ARGUMENT', message: 'A message is a JSON object {id, call, args}.' } }
  const m = msg as Record<string, unknown>
  const id = (typeof m.id === 'string' && m.id.length <= MAX_ID_LENGTH) || typeof m.id === 'number' ? m.id : null
  if (id === null) return { id: null, error: { code: 'BAD_ARGUMENT', message: `A message needs an id (a number, or a string of at most ${MAX_ID_LENGTH} characters).` } }
  if (typeof m.call !== 'string') return { id, error: { code: 'BAD_ARGUMENT', message: 'A message needs a call name.' } }
  return { id, call: m.call, args: m.args }
}

function send (ws: WebSocket, msg: ServerMessage): void {
  if (ws.readyState !== ws.OPEN) return
  if (ws.bufferedAmount > MAX_BUFFERED_BYTES) { ws.terminate(); return }
  ws.send(JSON.stringify(msg))
}

function bridgeError (err: unknown): BridgeError {
  const e = err instanceof EngineError ? err : toEngineError(err)
  return e.toBridge()
}

/** A WebSocketServer without its own listener: the HTTP server hands it authorised upgrades. */
export function createWsTransport (host: Host): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false })
  wss.on('connection', (ws) => {
    const unsubscribe = host.subscribe((event, payload) => send(ws, { event, payload }))
    ws.on('close', unsubscribe)
    ws.on('error', () => { /* ws closes the socket itself (e.g. 1009 for oversized messages) */ })
    // Backpressure: a client that pipelines calls faster than they finish stops being read, so
    // its pending calls (each up to MAX_MESSAGE_BYTES) cannot pile up in memory.
    let inFlight = 0
    const done = () => {
      inFlight--
      if (ws.isPaused && inFlight < MAX_IN_FLIGHT && ws.readyState === ws.OPEN) ws.resume()
    }
    ws.on('message', (data, isBinary) => {
      const msg = parseMessage(data, isBinary)
      if ('error' in msg) { send(ws, msg); return }
      if (++inFlight >= MAX_IN_FLIGHT) ws.pause()
      host.call(msg.call, msg.args).then(
        (result) => send(ws, { id: msg.id, result: result ?? null }),
        (err: unknown) => send(ws, { id: msg.id, error: bridgeError(err) })
      ).finally(done)
    })
  })
  return wss
}
