// Parser for `nodetool netstats` (Cassandra 4.x / 5.0 text format; there is no machine-readable
// form of the streaming state over JMX that nodetool prints). The format, from NetStats.java:
//
//   Mode: NORMAL
//   Rebuild 4d6c3e10-...                                  <- "<operation description> <planId>"
//       /127.0.0.1 (using /10.0.0.1)                      <- one line per session peer
//           Receiving 12 files, 123456 bytes total. Already received 3 files (25.00%), 1000 bytes total (0.81%)
//               /path/nb-1-big-Data.db 1000/50000 bytes (2%) received from idx:0/127.0.0.1
//           Sending 4 files, ... Already sent 1 files (25.00%), 10 bytes total (1.00%)
//   Not sending any streams.                              <- when there is no stream at all
//   Read Repair Statistics: ...
//
// `-H` (human readable sizes) is accepted too, but byte counts are then approximate: call
// netstats without -H when the numbers are used for progress.
import { parseSize } from './status.ts'

export interface FileProgress {
  file: string
  bytes: number
  total: number
  direction: 'received' | 'sent'
  peer: string
}

export interface Transfer {
  files: number
  bytes: number
  doneFiles: number
  doneBytes: number
}

export interface StreamSession {
  /** The peer as printed, without the leading slash and without a port ("127.0.0.2"). */
  peer: string
  /** The peer exactly as printed ("/127.0.0.2:7000"). */
  peerRaw: string
  /** The address actually used, when it differs (private IP). */
  using?: string
  receiving?: Transfer
  sending?: Transfer
  files: FileProgress[]
}

export interface StreamPlan {
  /** "Rebuild", "Bootstrap", "Repair", "Unbootstrap", "Bulk Load", ... */
  operation: string
  planId: string
  sessions: StreamSession[]
}

export interface NetStats {
  mode: string
  plans: StreamPlan[]
}

/** "/127.0.0.2:7000" -> "127.0.0.2"; "/[::1]:7000" -> "::1"; "host/1.2.3.4" -> "1.2.3.4". */
export function peerAddress(raw: string): string {
  let s = raw.trim()
  if (s.includes('/')) s = s.slice(s.lastIndexOf('/') + 1)
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(s)
  if (v6) return v6[1]
  const v4 = /^(\d+\.\d+\.\d+\.\d+)(?::\d+)?$/.exec(s)
  if (v4) return v4[1]
  return s
}

const SIZE = String.raw`([\d.,]+ ?(?:bytes|[KMGT]i?B|B))`
const PCT = String.raw`\(\s*(?:[\d.,]+|NaN|Infinity)%\)`
const TRANSFER = (verb: string, done: string): RegExp =>
  new RegExp(
    String.raw`^\s*${verb} (\d+) files, ${SIZE} total\. Already ${done} (\d+) files ${PCT}, ${SIZE} total ${PCT}\s*$`
  )
const RECEIVING = TRANSFER('Receiving', 'received')
const SENDING = TRANSFER('Sending', 'sent')
const PLAN = /^(\S.*?) ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s*$/
const PEER = /^ {4}(\S+)(?: \(using (\S+)\))?\s*$/
const FILE = /^\s+(.+) (\d+)\/(\d+) bytes\s*\(\d+%\)\s*(sent to|received from)\s*idx:\d+(\S+)\s*$/

function transfer(m: RegExpExecArray): Transfer {
  return { files: Number(m[1]), bytes: parseSize(m[2]) ?? 0, doneFiles: Number(m[3]), doneBytes: parseSize(m[4]) ?? 0 }
}

export class NetStatsParseError extends Error {}

/** Parses the whole output; unknown lines inside a plan are ignored, a missing Mode line is an error. */
export function parseNetStats(text: string): NetStats {
  const lines = text.replace(/\r/g, '').split('\n')
  let mode: string | undefined
  const plans: StreamPlan[] = []
  let plan: StreamPlan | undefined
  let session: StreamSession | undefined
  for (const line of lines) {
    if (line.trim() === '') continue
    const modeM = /^Mode: (\S+)/.exec(line)
    if (modeM) {
      mode = modeM[1]
      continue
    }
    if (/^(Not sending any streams|Not receiving any streams)/.test(line)) continue
    if (/^(Read Repair Statistics:|Pool Name\b)/.test(line)) {
      // Everything below is about messaging, not streaming.
      plan = undefined
      session = undefined
      if (line.startsWith('Pool Name')) break
      continue
    }
    const planM = PLAN.exec(line)
    if (planM) {
      plan = { operation: planM[1], planId: planM[2], sessions: [] }
      plans.push(plan)
      session = undefined
      continue
    }
    if (!plan) continue
    const recv = RECEIVING.exec(line)
    if (recv && session) {
      session.receiving = transfer(recv)
      continue
    }
    const send = SENDING.exec(line)
    if (send && session) {
      session.sending = transfer(send)
      continue
    }
    const file = FILE.exec(line)
    if (file && session) {
      session.files.push({
        file: file[1],
        bytes: Number(file[2]),
        total: Number(file[3]),
        direction: file[4] === 'sent to' ? 'sent' : 'received',
        peer: peerAddress(file[5])
      })
      continue
    }
    const peer = PEER.exec(line)
    if (peer) {
      session = { peer: peerAddress(peer[1]), peerRaw: peer[1], using: peer[2] ? peerAddress(peer[2]) : undefined, files: [] }
      plan.sessions.push(session)
      continue
    }
  }
  if (mode === undefined) throw new NetStatsParseError(`not nodetool netstats output (no 'Mode:' line): ${text.slice(0, 200)}`)
  return { mode, plans }
}

export interface PeerProgress {
  peer: string
  files: number
  doneFiles: number
  bytes: number
  doneBytes: number
}

/** One stream session as listed; `receiving` is absent before it is prepared and after it completed. */
export interface SessionProgress {
  planId: string
  peer: string
  receiving?: Transfer
}

/** Receiving progress of every plan of one operation (default Rebuild), per peer and in total. */
export interface ReceiveProgress {
  planIds: string[]
  sessions: SessionProgress[]
  peers: PeerProgress[]
  bytes: number
  doneBytes: number
  files: number
  doneFiles: number
  /** doneBytes / bytes in percent; undefined while the totals are unknown (0). */
  percent: number | undefined
}

export function receiveProgress(ns: NetStats, operation = 'Rebuild'): ReceiveProgress {
  const plans = ns.plans.filter((p) => p.operation === operation)
  const byPeer = new Map<string, PeerProgress>()
  for (const p of plans) {
    for (const s of p.sessions) {
      if (!s.receiving) continue
      const cur = byPeer.get(s.peer) ?? { peer: s.peer, files: 0, doneFiles: 0, bytes: 0, doneBytes: 0 }
      cur.files += s.receiving.files
      cur.doneFiles += s.receiving.doneFiles
      cur.bytes += s.receiving.bytes
      cur.doneBytes += s.receiving.doneBytes
      byPeer.set(s.peer, cur)
    }
  }
  const peers = [...byPeer.values()].sort((a, b) => a.peer.localeCompare(b.peer))
  const sum = (f: (p: PeerProgress) => number): number => peers.reduce((n, p) => n + f(p), 0)
  const bytes = sum((p) => p.bytes)
  const doneBytes = sum((p) => p.doneBytes)
  return {
    planIds: plans.map((p) => p.planId),
    sessions: plans.flatMap((p) => p.sessions.map((x) => ({ planId: p.planId, peer: x.peer, receiving: x.receiving }))),
    peers,
    bytes,
    doneBytes,
    files: sum((p) => p.files),
    doneFiles: sum((p) => p.doneFiles),
    percent: bytes > 0 ? (100 * doneBytes) / bytes : undefined
  }
}
