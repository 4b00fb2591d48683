// `nodetool gossipinfo`: one block per endpoint ("/127.0.0.1" or "/127.0.0.1:7000", then indented
// "KEY:version:value" lines, or "generation:N" / "heartbeat:N"). Read for what the ring no longer
// shows: a datacenter whose nodes left (STATUS LEFT) stays in gossip for about three days.

export interface GossipEndpoint {
  endpoint: string
  /** application states by key (STATUS, STATUS_WITH_PORT, DC, RACK, ...), values without version */
  states: Record<string, string>
}

export function parseGossipInfo(text: string): GossipEndpoint[] {
  const out: GossipEndpoint[] = []
  let cur: GossipEndpoint | undefined
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd()
    if (/^\/\S+/.test(line) || /^\S+\/\S+/.test(line)) {
      cur = { endpoint: line.replace(/^\S*\//, '').trim(), states: {} }
      out.push(cur)
      continue
    }
    const m = /^\s+([A-Z_]+):(?:\d+:)?(.*)$/.exec(line)
    if (cur && m) cur.states[m[1]] = m[2].trim()
  }
  if (!out.length && text.trim()) throw new Error(`not nodetool gossipinfo output: ${text.trim().split('\n')[0].slice(0, 120)}`)
  return out
}

/** Endpoints of `dc` that left the ring (gossip STATUS LEFT), as gossip still lists them. */
export function leftEndpoints(gossip: GossipEndpoint[], dc: string): string[] {
  return gossip.filter((g) => g.states.DC === dc && /^LEFT\b/.test(g.states.STATUS_WITH_PORT ?? g.states.STATUS ?? '')).map((g) => g.endpoint)
}

/** The address of an endpoint without its storage port ("127.0.0.1:7000" -> "127.0.0.1"; IPv6 as printed). */
export function endpointHost(endpoint: string): string {
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/.exec(endpoint)
  if (v4) return v4[1]
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(endpoint)
  return bracketed ? bracketed[1] : endpoint
}

/** Every address gossip lists in `dc`, whatever its status (live, leaving, left, removed): what other regions may name as seeds. */
export function datacenterAddresses(gossip: GossipEndpoint[], dc: string): string[] {
  return [...new Set(gossip.filter((g) => g.states.DC === dc).map((g) => endpointHost(g.endpoint)))]
}
