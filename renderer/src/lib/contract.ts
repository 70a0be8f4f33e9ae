// The renderer's single door to the contract: types only (scripts/check-layers.mjs enforces it).
export type {
  BannedPeer, BridgeError, CallArgs, CallName, CallResult, Capabilities, DesktopBridge, ErrorCode, EventName, EventPayloads,
  FilePriority, FileSnapshot, GlobalStats, Language, NatStatus, PeerSnapshot, Settings, ShareProgress, ShoalApi,
  Theme, TorrentDetail, TorrentState, TorrentSummary, TrackerSnapshot
} from '../../../main/contract/contract.ts'
