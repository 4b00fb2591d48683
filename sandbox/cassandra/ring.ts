// The sandbox's own reading of `nodetool status`: which address is in which datacenter, and
// whether it is Up/Normal. Deliberately minimal and separate from the actions' parser
// (src/core/cassandra/status.ts): the world is the oracle the actions are judged by, so it must
// not share their reading of Cassandra's output.

export interface RingMember {
  datacenter: string
  address: string
  /** the two-letter state column, e.g. UN, DN, UJ */
  state: string
}

/** Node lines ("UN  127.0.1.1  ...") under their "Datacenter: X" heading. */
export function ringMembers(statusText: string): RingMember[] {
  const out: RingMember[] = []
  let datacenter = ''
  for (const line of statusText.split('\n')) {
    const dc = /^Datacenter: (\S+)/.exec(line)
    if (dc) datacenter = dc[1]
    const node = /^([UD][NLJM]) +(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f:]+) /.exec(line)
    if (node) out.push({ datacenter, address: node[2], state: node[1] })
  }
  return out
}

/** Addresses the status shows Up and Normal. */
export function upNormal(statusText: string): Set<string> {
  return new Set(ringMembers(statusText).filter((m) => m.state === 'UN').map((m) => m.address))
}
