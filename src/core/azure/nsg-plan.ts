// Inbound NSG rules that open the Cassandra ports to the peer's address space. Pure functions:
// one rule per (NSG, peer VNet, address family: Azure refuses a rule that mixes IPv4 and IPv6
// prefixes), found again by name on a re-run, so apply is idempotent; its
// priority is the lowest free inbound priority from a base, so it never collides with a rule
// that is already there.
import { PreflightError } from '../errors.ts'
import { type Family, isIpPrefix, normalizePrefixes, ofFamily, overlaps } from './cidr.ts'

export interface ExistingRule {
  name: string
  priority?: number
  direction?: string
  access?: string
  protocol?: string
  sourcePortRange?: string
  sourcePortRanges?: string[]
  sourceAddressPrefix?: string
  sourceAddressPrefixes?: string[]
  destinationAddressPrefix?: string
  destinationAddressPrefixes?: string[]
  destinationPortRange?: string
  destinationPortRanges?: string[]
  description?: string
}

export interface RuleSpec {
  name: string
  priority: number
  direction: 'Inbound'
  access: 'Allow'
  protocol: 'Tcp'
  sourcePortRange: '*'
  sourceAddressPrefixes: string[]
  destinationAddressPrefixes: string[]
  destinationPortRanges: string[]
  description: string
}

export interface RuleAction {
  kind: 'create' | 'update' | 'keep'
  nsgId: string
  nsgName: string
  rule: RuleSpec
  reason: string
  /** Existing Deny rules evaluated before ours that may block the same traffic. */
  shadowedBy: string[]
}

export const PRIORITY_BASE = 1000
/** In the description of every rule this suite creates: mode remove deletes only rules carrying it. */
export const OWNER_MARK = '(mr-actions create-vnet-peering)'
const MAX_PRIORITY = 4096

/** [7000, 7001, 9042] -> ['7000-7001', '9042'] */
export function portRanges(ports: readonly number[]): string[] {
  const sorted = [...new Set(ports)].sort((a, b) => a - b)
  const out: string[] = []
  for (let i = 0; i < sorted.length; ) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++
    out.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`)
    i = j + 1
  }
  return out
}

/** The set of ports a rule's port fields cover; undefined means any port ('*'). */
export function expandPorts(single?: string, list?: string[]): Set<number> | undefined {
  const items = [...(list ?? []), ...(single ? [single] : [])]
  const out = new Set<number>()
  for (const it of items) {
    if (it === '*') return undefined
    const m = /^(\d+)(?:-(\d+))?$/.exec(it.trim())
    if (!m) continue
    const lo = Number(m[1])
    const hi = m[2] ? Number(m[2]) : lo
    for (let p = lo; p <= hi && p - lo <= 65535; p++) out.add(p)
  }
  return out
}

const prefixesOf = (single?: string, list?: string[]): string[] => [...(list ?? []), ...(single ? [single] : [])]

function sameCidrs(a: string[], b: string[]): boolean {
  if (!a.every(isIpPrefix) || !b.every(isIpPrefix)) return a.slice().sort().join() === b.slice().sort().join()
  const x = normalizePrefixes(a)
  const y = normalizePrefixes(b)
  return x.length === y.length && x.every((v, i) => v === y[i])
}

/** Rule name for the peer VNet: allow-cassandra-from-<vnet> (IPv4) or ...-<vnet>-ipv6, within Azure's 80 characters. */
export function ruleNameFor(peerVnet: string, family: Family = 4): string {
  const suffix = family === 6 ? '-ipv6' : ''
  const name = `allow-cassandra-from-${peerVnet}`.slice(0, 80 - suffix.length).replace(/[.-]+$/, '')
  return name + suffix
}

/** Lowest inbound priority from `base` not used by any rule. */
export function freePriority(rules: readonly ExistingRule[], base = PRIORITY_BASE): number {
  const used = new Set(rules.filter((r) => (r.direction ?? 'Inbound') === 'Inbound').map((r) => r.priority))
  for (let p = base; p <= MAX_PRIORITY; p++) if (!used.has(p)) return p
  throw new PreflightError(`no free inbound priority between ${base} and ${MAX_PRIORITY}`, 'remove unused inbound rules from the network security group')
}

function matches(r: ExistingRule, want: RuleSpec): string[] {
  const diff: string[] = []
  if (r.direction !== 'Inbound') diff.push(`direction ${r.direction}`)
  if (r.access !== 'Allow') diff.push(`access ${r.access}`)
  if (r.protocol !== 'Tcp') diff.push(`protocol ${r.protocol}`)
  const srcPorts = prefixesOf(r.sourcePortRange, r.sourcePortRanges)
  if (!(srcPorts.length === 1 && srcPorts[0] === '*')) diff.push(`source ports ${srcPorts.join(',')}`)
  if (!sameCidrs(prefixesOf(r.sourceAddressPrefix, r.sourceAddressPrefixes), want.sourceAddressPrefixes)) diff.push('source prefixes')
  if (!sameCidrs(prefixesOf(r.destinationAddressPrefix, r.destinationAddressPrefixes), want.destinationAddressPrefixes)) diff.push('destination prefixes')
  const have = expandPorts(r.destinationPortRange, r.destinationPortRanges)
  const wantPorts = expandPorts(undefined, want.destinationPortRanges)!
  if (!have || have.size !== wantPorts.size || [...wantPorts].some((p) => !have.has(p))) diff.push('destination ports')
  return diff
}

function shadowing(rules: readonly ExistingRule[], want: RuleSpec): string[] {
  const ports = expandPorts(undefined, want.destinationPortRanges)!
  return rules
    .filter((r) => r.name !== want.name && r.direction === 'Inbound' && r.access === 'Deny' && (r.priority ?? 65500) < want.priority)
    .filter((r) => r.protocol === '*' || r.protocol === 'Tcp')
    .filter((r) => {
      const rp = expandPorts(r.destinationPortRange, r.destinationPortRanges)
      return !rp || [...ports].some((p) => rp.has(p))
    })
    .filter((r) => {
      const src = prefixesOf(r.sourceAddressPrefix, r.sourceAddressPrefixes)
      return src.some((s) => !isIpPrefix(s) || want.sourceAddressPrefixes.some((w) => overlaps(s, w)))
    })
    .map((r) => `${r.name} (priority ${r.priority}, Deny)`)
}

export interface NsgRuleInput {
  nsgId: string
  nsgName: string
  existing: readonly ExistingRule[]
  ruleName: string
  /** The peer VNet's address space (who may connect). */
  sourcePrefixes: readonly string[]
  /** This VNet's address space (where Cassandra listens). */
  destinationPrefixes: readonly string[]
  ports: readonly number[]
  peerVnet: string
  priorityBase?: number
}

export function planNsgRule(i: NsgRuleInput): RuleAction {
  const found = i.existing.find((r) => r.name.toLowerCase() === i.ruleName.toLowerCase())
  const priority = found?.priority ?? freePriority(i.existing, i.priorityBase)
  const rule: RuleSpec = {
    name: found?.name ?? i.ruleName,
    priority,
    direction: 'Inbound',
    access: 'Allow',
    protocol: 'Tcp',
    sourcePortRange: '*',
    sourceAddressPrefixes: [...i.sourcePrefixes],
    destinationAddressPrefixes: [...i.destinationPrefixes],
    destinationPortRanges: portRanges(i.ports),
    description: `Cassandra inter-node traffic from peered VNet ${i.peerVnet} ${OWNER_MARK}`
  }
  const base = { nsgId: i.nsgId, nsgName: i.nsgName, rule, shadowedBy: shadowing(i.existing, rule) }
  if (!found) return { ...base, kind: 'create', reason: `new rule at free priority ${priority}` }
  const diff = matches(found, rule)
  if (diff.length) return { ...base, kind: 'update', reason: `differs: ${diff.join(', ')}` }
  return { ...base, kind: 'keep', reason: 'rule exists as wanted' }
}

/**
 * One rule per address family that both VNets have (a dual-stack pair gets an IPv4 and an IPv6
 * rule; a family only one side has needs none: no traffic of that family can flow between them).
 * `existing` grows with each planned rule, so the second rule takes the next free priority.
 */
export function planNsgRules(i: Omit<NsgRuleInput, 'ruleName'>): RuleAction[] {
  const out: RuleAction[] = []
  for (const f of [4, 6] as Family[]) {
    const src = ofFamily(i.sourcePrefixes, f)
    const dst = ofFamily(i.destinationPrefixes, f)
    if (!src.length || !dst.length) continue
    const existing = [...i.existing, ...out.map((a) => a.rule)]
    out.push(planNsgRule({ ...i, existing, ruleName: ruleNameFor(i.peerVnet, f), sourcePrefixes: src, destinationPrefixes: dst }))
  }
  return out
}
