// The keyspace replication plan: which keyspaces must change so that a datacenter is added to
// (or removed from) their replication, and the exact ALTER for each. Pure: reads rows of
// system_schema.keyspaces, returns a plan; the action prints it, gates it and applies it.
import { ActionError } from '../errors.ts'
import { rules } from '../patterns.ts'
import { cqlIdent, cqlString } from './cqlsh.ts'

export const KEYSPACES_QUERY = 'SELECT JSON keyspace_name, durable_writes, replication FROM system_schema.keyspaces'

export interface Keyspace {
  name: string
  /** Short class name: NetworkTopologyStrategy, SimpleStrategy, LocalStrategy, ... */
  strategy: string
  /** The replication map without 'class' (dc -> rf for NTS; replication_factor for Simple). */
  options: Record<string, string>
}

export interface KeyspaceRow {
  keyspace_name: string
  replication: Record<string, string>
  durable_writes?: boolean
}

export function toKeyspaces(rows: KeyspaceRow[]): Keyspace[] {
  return rows
    .map((r) => {
      const { class: cls = '', ...options } = r.replication ?? {}
      return { name: r.keyspace_name, strategy: cls.replace(/^org\.apache\.cassandra\.locator\./, ''), options }
    })
    .sort((a, b) => a.name.localeCompare(b.name))
}

/** The first number of an RF value ('3', or '3/1' with transient replicas). */
export function rfOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const m = /^(\d+)/.exec(value)
  return m ? Number(m[1]) : undefined
}

export type Mode = 'add' | 'remove'

export interface PlanOptions {
  mode: Mode
  /** The DC whose RF is the default for the new DC (add mode). */
  sourceDc: string
  /** The DC to add or remove. */
  targetDc: string
  /** Nodes of the target DC in the ring (caps the default RF). */
  targetNodes: number
  /** Live (UN) nodes of the target DC (remove: system_auth keeps a DC that still has nodes). */
  targetLiveNodes?: number
  /** RF for the target DC for every keyspace (overrides the default). */
  rf?: number
  /** RF per keyspace (overrides rf and the default). */
  rfByKeyspace?: Record<string, number>
  /** Convert SimpleStrategy keyspaces to NetworkTopologyStrategy (add mode). */
  convertSimple?: boolean
  /** Only these keyspaces (default: all). */
  include?: string[]
  exclude?: string[]
}

export type Action = 'alter' | 'unchanged' | 'skip'

export interface PlanItem {
  keyspace: string
  strategy: string
  action: Action
  reason: string
  before: Record<string, string>
  after?: Record<string, string>
  /** The target DC's RF after the change (add mode). */
  rf?: number
  statement?: string
  /** Warnings the user should read (SimpleStrategy left alone...). */
  warning?: string
}

export interface Plan {
  mode: Mode
  sourceDc: string
  targetDc: string
  items: PlanItem[]
}

const SYSTEM_AUTH = 'system_auth'

export function planReplication(keyspaces: Keyspace[], o: PlanOptions): Plan {
  if (o.mode === 'add' && o.sourceDc === o.targetDc) {
    throw new ActionError(`source and target datacenter are both '${o.targetDc}'`, 'the target datacenter is the new one being added; the source is an existing one')
  }
  const known = new Set(keyspaces.map((k) => k.name))
  const unknown = (input: string, names: string[]): string | undefined => {
    const missing = names.filter((n) => !known.has(n))
    return missing.length ? `input '${input}': keyspace(s) ${missing.map((n) => `'${n}'`).join(', ')} do not exist` : undefined
  }
  const problems = [unknown('keyspaces', o.include ?? []), unknown('replication-factors', Object.keys(o.rfByKeyspace ?? {}))].filter((p) => p !== undefined)
  if (problems.length) throw new ActionError(problems.join('\n'), `keyspace names are case-sensitive; existing: ${[...known].join(', ')}`)
  const items: PlanItem[] = []
  for (const ks of keyspaces) {
    if (o.include?.length && !o.include.includes(ks.name)) continue
    if (o.exclude?.includes(ks.name)) continue
    items.push(o.mode === 'add' ? planAdd(ks, o) : planRemove(ks, o))
  }
  // system_auth last: removing a DC from it first would lock that DC's clients out while the
  // rest still replicate there (and Cassandra 4.1+ refuses it while the DC has live nodes).
  items.sort((a, b) => Number(a.keyspace === SYSTEM_AUTH) - Number(b.keyspace === SYSTEM_AUTH) || a.keyspace.localeCompare(b.keyspace))
  return { mode: o.mode, sourceDc: o.sourceDc, targetDc: o.targetDc, items }
}

function item(ks: Keyspace, action: Action, reason: string, extra: Partial<PlanItem> = {}): PlanItem {
  return { keyspace: ks.name, strategy: ks.strategy, action, reason, before: ks.options, ...extra }
}

function desiredRf(ks: Keyspace, sourceRf: number | undefined, o: PlanOptions): { rf?: number; why: string } {
  const explicit = o.rfByKeyspace?.[ks.name]
  if (explicit !== undefined) return { rf: explicit, why: `RF ${explicit} from replication-factors` }
  if (o.rf !== undefined) return { rf: o.rf, why: `RF ${o.rf} from replication-factor` }
  if (sourceRf === undefined) return { why: `no replicas in source datacenter '${o.sourceDc}'` }
  const rf = Math.min(sourceRf, o.targetNodes)
  return { rf, why: rf < sourceRf ? `RF ${rf}: source RF ${sourceRf} capped at ${o.targetNodes} node(s) in '${o.targetDc}'` : `RF ${rf} as in '${o.sourceDc}'` }
}

function alter(ks: Keyspace, after: Record<string, string>): string {
  const entries = [`'class': 'NetworkTopologyStrategy'`, ...Object.entries(after).map(([dc, rf]) => `${cqlString(dc)}: ${cqlString(rf)}`)]
  return `ALTER KEYSPACE ${cqlIdent(ks.name)} WITH replication = {${entries.join(', ')}};`
}

function planAdd(ks: Keyspace, o: PlanOptions): PlanItem {
  if (ks.strategy === 'LocalStrategy') return item(ks, 'skip', 'LocalStrategy: node-local, never replicated')
  if (ks.strategy === 'SimpleStrategy') {
    const srf = rfOf(ks.options.replication_factor)
    if (!o.convertSimple) {
      return item(ks, 'skip', 'SimpleStrategy: not per datacenter; left as is', {
        warning: `keyspace '${ks.name}' uses SimpleStrategy (RF ${srf}): its replicas ignore datacenters. Set convert-simple-strategy: true to convert it to NetworkTopologyStrategy with '${o.sourceDc}': ${srf} and the new datacenter`
      })
    }
    const { rf, why } = desiredRf(ks, srf, o)
    if (rf === undefined || srf === undefined) return item(ks, 'skip', why)
    const after = { [o.sourceDc]: String(srf), [o.targetDc]: String(rf) }
    return item(ks, 'alter', `convert SimpleStrategy; ${why}`, { after, rf, statement: alter(ks, after) })
  }
  if (ks.strategy !== 'NetworkTopologyStrategy') return item(ks, 'skip', `${ks.strategy}: not managed here`)
  const current = ks.options[o.targetDc]
  const sourceRf = rfOf(ks.options[o.sourceDc])
  const explicit = o.rfByKeyspace?.[ks.name] ?? o.rf
  if (current !== undefined && (explicit === undefined || rfOf(current) === explicit)) {
    return item(ks, 'unchanged', `already replicates to '${o.targetDc}' (RF ${current})`, { rf: rfOf(current) })
  }
  const { rf, why } = desiredRf(ks, sourceRf, o)
  if (rf === undefined) return item(ks, 'skip', why, { warning: `keyspace '${ks.name}' has no replicas in '${o.sourceDc}'; name it in replication-factors to add '${o.targetDc}'` })
  if (rf === 0) return item(ks, 'skip', `RF 0 requested for '${o.targetDc}'`)
  const after = { ...ks.options, [o.targetDc]: String(rf) }
  return item(ks, 'alter', current !== undefined ? `RF ${current} -> ${rf} (replication-factors)` : why, { after, rf, statement: alter(ks, after) })
}

function planRemove(ks: Keyspace, o: PlanOptions): PlanItem {
  if (ks.strategy !== 'NetworkTopologyStrategy') return item(ks, 'skip', `${ks.strategy}: not per datacenter`)
  if (ks.options[o.targetDc] === undefined) return item(ks, 'unchanged', `does not replicate to '${o.targetDc}'`)
  if (ks.name === SYSTEM_AUTH && (o.targetNodes > 0 || (o.targetLiveNodes ?? 0) > 0)) {
    // Last, and only once the DC's nodes are gone from the ring: Cassandra 4.1+ refuses it while
    // they are live ("Following datacenters have active nodes and must be present in replication
    // options for keyspace system_auth"), and a down node that comes back would reject logins.
    return item(ks, 'skip', `'${o.targetDc}' still has ${o.targetNodes} node(s) in the ring (${o.targetLiveNodes ?? 0} live)`, {
      warning: `system_auth keeps '${o.targetDc}' while that datacenter has nodes in the ring (Cassandra 4.1+ refuses otherwise): decommission its nodes (or removenode the ones that are gone), then run mode remove again`
    })
  }
  const after = { ...ks.options }
  delete after[o.targetDc]
  if (Object.values(after).every((v) => (rfOf(v) ?? 0) === 0)) {
    throw new ActionError(
      `removing '${o.targetDc}' from keyspace '${ks.name}' would leave it without replicas (it only replicates there)`,
      `add another datacenter to '${ks.name}' first, drop the keyspace, or exclude it with exclude-keyspaces`
    )
  }
  return item(ks, 'alter', `remove '${o.targetDc}'`, { after, statement: alter(ks, after) })
}

export const altered = (p: Plan): PlanItem[] => p.items.filter((i) => i.action === 'alter')

/** Replication map as printed in tables: "dc-1:3, dc-2:3". */
export function showReplication(options: Record<string, string> | undefined, strategy = 'NetworkTopologyStrategy'): string {
  if (!options) return ''
  const body = Object.entries(options)
    .map(([k, v]) => `${k}:${v}`)
    .join(', ')
  return strategy === 'NetworkTopologyStrategy' ? body : `${strategy.replace('Strategy', '')} ${body}`.trim()
}

export function planRows(p: Plan): (string | number)[][] {
  return p.items.map((i) => [i.keyspace, i.action, showReplication(i.before, i.strategy), i.after ? showReplication(i.after) : '', i.reason])
}
export const PLAN_HEADERS = ['keyspace', 'action', 'before', 'after', 'why']

/**
 * Compares keyspaces read after the change with the plan: every altered keyspace must now
 * have exactly the planned replication. Returns the mismatches.
 */
export function verifyPlan(p: Plan, after: Keyspace[]): string[] {
  const byName = new Map(after.map((k) => [k.name, k]))
  const problems: string[] = []
  for (const i of altered(p)) {
    const k = byName.get(i.keyspace)
    if (!k) {
      problems.push(`keyspace '${i.keyspace}' is gone`)
      continue
    }
    const want = showReplication(sortObj(i.after!))
    const got = showReplication(sortObj(k.options), k.strategy)
    if (k.strategy !== 'NetworkTopologyStrategy' || want !== got) problems.push(`keyspace '${i.keyspace}': expected {${want}}, found {${got}}`)
  }
  return problems
}

const sortObj = (o: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)))

/** Parses "ks=3, Other_KS=2" into a map; errors name the bad item. Keyspace names follow the
 *  same rule as input 'keyspaces', so that no name passes one input and fails the other. */
export function parseRfList(items: string[]): { ok: Record<string, number> } | { error: string } {
  const out: Record<string, number> = {}
  for (const it of items) {
    const m = /^([^=\s]+)\s*=\s*(\d+)$/.exec(it)
    if (!m) return { error: `'${it}' is not keyspace=RF` }
    if (!rules.keyspace.re.test(m[1])) return { error: `'${it}': '${m[1]}' is not a keyspace name` }
    if (Number(m[2]) < 1 || Number(m[2]) > 20) return { error: `'${it}': RF must be 1..20` }
    if (out[m[1]] !== undefined && out[m[1]] !== Number(m[2])) return { error: `'${m[1]}' is given twice, RF ${out[m[1]]} and ${m[2]}` }
    out[m[1]] = Number(m[2])
  }
  return { ok: out }
}
