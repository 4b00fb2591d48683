// expand-keyspaces: make every keyspace replicate to the new datacenter (procedure section C),
// or take a datacenter out of replication (mode remove).
//   1. Find a ready Cassandra pod of the source region; read the credentials secret.
//   2. Take the lock (a Lease in the source cluster; not in dry-run), then read the ring (nodetool
//      status, describecluster) and system_schema.keyspaces (SELECT JSON): the new replication map is
//      computed from this read under the lock, so a concurrent run cannot drop another's DC.
//   3. Plan: which keyspaces change, before/after; print it (dry-run stops here).
//   4. Gates: every node UN, one schema version, nothing unreachable, RF <= live nodes.
//   5. Apply every ALTER in ONE session (cqlsh's driver, or cqlsh -f); wait once for schema agreement.
//   6. Re-read the keyspaces and verify each one against the plan.
import * as core from '@actions/core'
import { mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAction } from '../../core/entry.ts'
import { ActionError, InputErrors, PreflightError } from '../../core/errors.ts'
import { textTable } from '../../core/report.ts'
import { redact } from '../../core/secrets.ts'
import { formatDuration, pollUntil } from '../../core/wait.ts'
import { cassandraPods, readyPod } from '../../core/kube/region.ts'
import { ACTION_PERMISSIONS, DEFAULT_NAMES, requirePermissions } from '../../core/kube/permissions.ts'
import { Cqlsh, isAuthFailure, parseJsonRows } from '../../core/cassandra/cqlsh.ts'
import { agreementLine, parseAgreement } from '../../core/cassandra/cql-driver.ts'
import { Nodetool, readDatastoreCredentials, type CassandraPods } from '../../core/cassandra/nodetool.ts'
import { checkGates, datacenters, failedGates, liveNodes } from '../../core/cassandra/gates.ts'
import { dataProblems, quorumProblems, remainingDcs, type DcCounts } from '../../core/cassandra/remove-safety.ts'
import { isUserKeyspace } from '../../core/cassandra/rebuild-verify.ts'
import { countRows, listTables } from '../../core/cassandra/row-counts.ts'
import { KEYSPACES_QUERY, PLAN_HEADERS, altered, planReplication, planRows, toKeyspaces, verifyPlan, type KeyspaceRow, type Plan } from '../../core/cassandra/keyspaces.ts'
import { leftEndpoints } from '../../core/cassandra/gossip.ts'
import { schemaVersions, unreachableNodes, type ClusterDescription, type RingNode } from '../../core/cassandra/status.ts'
import { readExpandInputs, type ExpandConfig } from './inputs.ts'
import { acquireLease, runHolder, type HeldLease } from '../../core/kube/lease.ts'
import type { Report } from '../../core/report.ts'

export async function run(): Promise<void> {
  await runAction('expand-keyspaces', async ({ inputs, report }) => {
    const cfg = readExpandInputs(inputs)
    const verb = cfg.mode === 'add' ? `add '${cfg.targetDc}' (RF from '${cfg.sourceDc}')` : `remove '${cfg.targetDc}'`
    core.info(`expand-keyspaces: ${verb} on ${cfg.kube.label}, namespace ${cfg.namespace}${cfg.dryRun ? ', dry run' : ''}`)

    // 0. The identity holds every permission this step needs (asked, not tried).
    await requirePermissions([{ kube: cfg.kube, wanted: ACTION_PERMISSIONS['expand-keyspaces']({ ...DEFAULT_NAMES, namespace: cfg.namespace, credentialsSecret: cfg.credentialsSecret }).source ?? [] }], 'docs/rbac/expand-keyspaces.yaml', core.info)

    // 1. A ready pod of the source region, and the credentials (registered as secrets at once).
    // (two reads at once: each kubectl call costs its own start-up)
    const need = { ddl: !cfg.ddl, jmx: !cfg.jmx }
    const [pods0, fromSecret] = await Promise.all([cassandraPods(cfg.kube, cfg.namespace, cfg.selector), need.ddl || need.jmx ? readDatastoreCredentials(cfg.kube, cfg.namespace, cfg.credentialsSecret, need) : Promise.resolve({} as Awaited<ReturnType<typeof readDatastoreCredentials>>)])
    const podInfo = readyPod(pods0, cfg.kube)
    const pod = podInfo.name
    const pods: CassandraPods = { kube: cfg.kube, namespace: cfg.namespace, container: cfg.container }
    const nodetool = new Nodetool(pods, cfg.jmx ?? fromSecret.jmx)
    const cqlsh = new Cqlsh(pods, cfg.ddl ?? fromSecret.ddl, cfg.cqlsh)
    core.info(`using pod ${pod}`)
    const lease = cfg.dryRun ? undefined : await acquireLease(cfg.kube, { namespace: cfg.namespace, ...cfg.lease, holder: runHolder(), log: (l) => core.info(l) })
    try {
      await expand(cfg, report, { pod, podAddress: (podInfo.hostNetwork ? podInfo.hostIP : podInfo.podIP) ?? podInfo.podIP, nodetool, cqlsh, verb, lease })
    } finally {
      await lease?.release()
    }
  })
}

interface Session {
  pod: string
  podAddress?: string
  nodetool: Nodetool
  cqlsh: Cqlsh
  verb: string
  lease?: HeldLease
}

async function expand(cfg: ExpandConfig, report: Report, { pod, podAddress, nodetool, cqlsh, verb, lease }: Session): Promise<void> {
  // 2. Read the ring and the keyspaces, the three reads at once (each starts a JVM or cqlsh in the
  //    pod, seconds apiece, while the reads themselves take milliseconds).
  const [ring, describe, before] = await Promise.all([nodetool.status(pod), nodetool.describeCluster(pod), cqlsh.selectJson<KeyspaceRow>(pod, KEYSPACES_QUERY).then(toKeyspaces)])
  core.info('ring:\n' + textTable(['dc', 'rack', 'address', 'state', 'load'], ring.map((n) => [n.datacenter, n.rack, n.address, `${n.status}${n.state}`, n.load ?? '?'])))
  const targetNodes = ring.filter((n) => n.datacenter === cfg.targetDc).length
  const targetLiveNodes = liveNodes(ring, cfg.targetDc).length
  // A dry run of a whole promotion reaches this stage before its install has run: plan for as
  // many nodes as the source datacenter has, as the install will start (the real run reads the ring).
  const beforeInstall = cfg.dryRun && cfg.mode === 'add' && targetNodes === 0
  const sourceNodes = ring.filter((n) => n.datacenter === cfg.sourceDc).length
  if (beforeInstall) core.info(`'${cfg.targetDc}' is not in the ring yet (installed by an earlier stage): planning for ${sourceNodes} node(s), as many as '${cfg.sourceDc}'`)

  // 3. Plan.
  const plan = planReplication(before, {
    mode: cfg.mode,
    sourceDc: cfg.sourceDc,
    targetDc: cfg.targetDc,
    targetNodes: beforeInstall ? sourceNodes : targetNodes,
    targetLiveNodes,
    rf: cfg.rf,
    rfByKeyspace: cfg.rfByKeyspace,
    convertSimple: cfg.convertSimple,
    include: cfg.include,
    exclude: cfg.exclude
  })
  const changes = altered(plan)
  core.info(`plan (${changes.length} keyspace(s) to alter):\n` + textTable(PLAN_HEADERS, planRows(plan)))
  for (const i of plan.items) if (i.warning) core.warning(i.warning)
  report.table(`Keyspaces: ${verb}`, PLAN_HEADERS, planRows(plan))
  const planPath = writePlan(plan)
  report.output('plan-path', planPath)
  report.set('plan', plan)

  // 4. Gates (checked in dry-run too, so a dry run tells whether the real run would pass).
  // Before the install, the gates about the new datacenter's own nodes can only pass after it.
  const afterInstall = (g: { name: string }): boolean => beforeInstall && (g.name === 'target datacenter in the ring' || g.name.startsWith('RF <= live nodes'))
  const gates = checkGates(ring, describe, plan)
  // mode remove: the DCs that stay must hold the data and keep quorum (remove-safety.ts).
  const safety = cfg.mode === 'remove' ? await removeSafety(cfg, plan, ring, { pod, podAddress, cqlsh, nodetool }) : []
  if (cfg.mode === 'remove') gates.push({ name: 'remaining datacenters hold the data', ok: safety.length === 0, detail: safety.length ? safety.map((e) => e.message).join('; ') : 'rows at LOCAL_ONE and LOCAL_QUORUM checked' })
  const gateRows = gates.map((g) => [g.name, g.ok ? 'yes' : afterInstall(g) ? 'after install' : 'NO', g.detail])
  report.table('Gates', ['gate', 'ok', 'detail'], gateRows)
  core.info('gates:\n' + textTable(['gate', 'ok', 'detail'], gateRows))
  // The datacenters must exist even when nothing changes (a typo must not pass as 'unchanged');
  // the health gates matter only when something will be altered.
  const failed = failedGates(gates).filter((g) => (changes.length > 0 || g.name.includes('datacenter')) && !afterInstall(g))
  // Refusals of a removal fail a dry run too: it is the decommission workflow's preflight.
  if (safety.length) throw safety.length === 1 ? safety[0] : new InputErrors(safety)
  if (cfg.dryRun) {
    report.status = 'planned'
    report.output('altered', 0)
    const when = beforeInstall ? ` once '${cfg.targetDc}' is installed (not in the ring yet; planned for ${sourceNodes} node(s), as many as '${cfg.sourceDc}')` : ''
    report.note(`Dry run: ${changes.length} ALTER KEYSPACE statement(s) planned${when}, none run.${failed.length ? ` ${failed.length} gate(s) would fail.` : ''}`)
    for (const i of changes) core.info(`would run: ${i.statement}`)
    return
  }
  if (failed.length) {
    throw new PreflightError(
      `expand-keyspaces: ${failed.length} gate(s) failed; no keyspace was changed:\n${failed.map((g) => `  - ${g.name}: ${g.detail}`).join('\n')}`,
      'fix the ring first (nodetool status / describecluster must show every node UN and one schema version), or lower the RF'
    )
  }
  if (changes.length === 0) {
    report.status = 'unchanged'
    report.output('altered', 0)
    report.note(`Every keyspace already ${cfg.mode === 'add' ? `replicates to '${cfg.targetDc}'` : `is free of '${cfg.targetDc}'`}: nothing to do.`)
    core.info('nothing to alter')
    return
  }

  lease?.check()
  // 5. Apply all ALTERs in one exec and one session, in plan order (system_auth last in mode
  //    remove), on one coordinator; wait once for schema agreement and re-read the keyspaces in
  //    that same session (the coordinator has the ALTERs at once).
  const started = Date.now()
  const waitS = Math.min(30, cfg.schemaTimeoutMs / 1000)
  const statements = [...changes.map((i) => i.statement!), agreementLine(waitS), KEYSPACES_QUERY]
  const timeoutMs = Math.max(120000, changes.length * 5000) + waitS * 1000
  const { via, result } = await cqlsh.session(pod, statements, { timeoutMs, driver: cfg.client === 'driver' })
  const how = via === 'driver' ? "in one session of cqlsh's driver (no agreement wait per statement)" : 'in one cqlsh session'
  if (cfg.client === 'driver' && via !== 'driver') core.info("cqlsh's Python driver could not be used in the pod (or SSL is on): ran cqlsh -f instead")
  core.info(`applied ${changes.length} ALTER KEYSPACE statement(s) ${how} in ${formatDuration(Date.now() - started)}`)
  const seen = parseAgreement(result.stdout)
  if (seen?.agreed) core.info("schema agreement: one version on the coordinator and every peer it lists (system.local, system.peers), read in the same session")
  else await nodetoolAgreement(cfg, nodetool, pod, ring, seen ? `the driver saw versions ${JSON.stringify(seen.versions)} after ${waitS}s` : undefined)

  // 6. Verify.
  const after = toKeyspaces(parseJsonRows<KeyspaceRow>(result.stdout))
  const problems = verifyPlan(plan, after)
  if (problems.length) throw new ActionError(`verification after ALTER failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`, 're-run the action; if it persists, read the Cassandra logs of the pod')
  report.output('altered', changes.length)
  report.note(
    `${changes.length} keyspace(s) altered ${how}; schema agreed; verified.` +
      (cfg.mode === 'add' ? ` Next: rebuild the new datacenter '${cfg.targetDc}' from '${cfg.sourceDc}' (rebuild-dc); Cassandra also recommends a full repair after raising RF.` : '')
  )
}

/**
 * Schema agreement as nodetool describecluster reports it (one version, no unreachable node of the
 * ring), polled: when the statements ran through cqlsh -f, or the driver's wait saw no agreement.
 */
async function nodetoolAgreement(cfg: ExpandConfig, nodetool: Nodetool, pod: string, ring: RingNode[], driverSaw?: string): Promise<void> {
  if (driverSaw) core.info(`${driverSaw}: asking nodetool describecluster`)
  let last: ClusterDescription | undefined
  await pollUntil(
    async () => {
      last = await nodetool.describeCluster(pod, { quiet: true })
      return schemaVersions(last).length === 1 && unreachableNodes(last, ring).length === 0 ? true : undefined
    },
    {
      timeoutMs: cfg.schemaTimeoutMs,
      initialMs: 500,
      maxMs: 5000,
      what: 'schema agreement after the ALTERs',
      lastState: () => (last ? `versions ${JSON.stringify(last.schemaVersions)}` : 'none read'),
      hint: 'a node may be slow or down: check nodetool describecluster; re-running the action is safe (it alters only what still differs)'
    }
  )
  core.info('schema agreement: one version on every node')
}

/**
 * Refusals of mode remove before any change: a misspelled or swapped datacenter, a remaining DC
 * without the data (rows at LOCAL_ONE through one of its nodes vs through one of the removed DC's),
 * a remaining DC too small for LOCAL_QUORUM.
 */
async function removeSafety(cfg: ExpandConfig, plan: Plan, ring: RingNode[], o: { pod: string; podAddress?: string; cqlsh: Cqlsh; nodetool: Nodetool }): Promise<ActionError[]> {
  const dcs = datacenters(ring)
  const named = plan.items.some((i) => i.before[cfg.targetDc] !== undefined)
  if (!dcs.includes(cfg.targetDc) && !named) {
    // Already removed (a re-run after success), or a misspelled name: gossip still lists the
    // nodes of a datacenter that left the ring (STATUS LEFT) for about three days.
    const left = leftEndpoints(await o.nodetool.gossipInfo(o.pod, { quiet: true }), cfg.targetDc)
    if (left.length) {
      core.info(`datacenter '${cfg.targetDc}' is already gone: its node(s) ${left.join(', ')} left the ring (gossip STATUS LEFT) and no keyspace replicates to it`)
      return []
    }
    return [
      new PreflightError(
        `datacenter '${cfg.targetDc}' is neither in the ring nor in any keyspace's replication, and gossip knows no node of it that left (datacenters: ${dcs.join(', ')})`,
        "check input 'target-datacenter' (exact case): it names the datacenter to remove; a datacenter retired days ago is forgotten by gossip: then there is nothing left to do"
      )
    ]
  }
  const own = ring.find((n) => n.address === o.podAddress)?.datacenter
  if (own && own !== cfg.sourceDc) {
    return [
      new PreflightError(
        `pod ${o.pod} (${o.podAddress}) is in datacenter '${own}', not in source-datacenter '${cfg.sourceDc}'${own === cfg.targetDc ? `: source and target look swapped (this would remove '${cfg.targetDc}' while running from it)` : ''}`,
        `source-context / source-region must be a region that stays, and source-datacenter its datacenter; target-datacenter the one to remove`
      )
    ]
  }
  const errs: ActionError[] = quorumProblems(plan, ring)
  const removedNode = liveNodes(ring, cfg.targetDc)[0]
  const keep = [...new Set([...remainingDcs(plan).values()].flatMap((k) => Object.keys(k)))]
  const userKs = altered(plan).map((i) => i.keyspace).filter(isUserKeyspace)
  if (!removedNode || !userKs.length) {
    if (!removedNode && userKs.length) core.info(`'${cfg.targetDc}' has no live node: no row counts to compare with`)
    return errs
  }
  const tables = await listTables(o.cqlsh, o.pod, userKs)
  const count = async (dc: string, node: RingNode): Promise<DcCounts> => {
    const via = new Cqlsh(o.cqlsh.pods, o.cqlsh.creds, { ...cfg.cqlsh, host: node.address })
    try {
      return { dc, via: node.address, counts: await countRows(via, o.pod, tables, 600_000) }
    } catch (e) {
      // the source's login works (it read the keyspaces): refused here means no roles in this DC
      if (!isAuthFailure(e)) throw e
      core.info(`${node.address} (${dc}) refuses the login: its system_auth holds no roles, the datacenter was never rebuilt`)
      return { dc, via: node.address, counts: [], noRoles: true }
    }
  }
  const removed = await count(cfg.targetDc, removedNode)
  if (removed.noRoles) return errs // it holds nothing the remaining DCs lack
  const remaining: DcCounts[] = []
  for (const dc of keep) {
    const node = liveNodes(ring, dc)[0]
    if (node) remaining.push(await count(dc, node))
  }
  core.info(
    'rows at LOCAL_ONE per datacenter:\n' +
      textTable(['table', removed.dc, ...remaining.map((r) => r.dc)], tables.map((t, i) => [`${t.keyspace}.${t.table}`, removed.counts[i] ?? '?', ...remaining.map((r) => r.counts[i] ?? '?')]))
  )
  return [...errs, ...dataProblems(plan, tables, removed, remaining)]
}

function writePlan(plan: unknown): string {
  const dir = join(process.env.RUNNER_TEMP || tmpdir(), 'mr-actions')
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `expand-keyspaces-plan-${Date.now()}.json`)
  writeFileSync(path, redact(JSON.stringify(plan, null, 2)) + '\n')
  return path
}
