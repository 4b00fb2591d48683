// expand-keyspaces: make every keyspace replicate to the new datacenter (procedure section C),
// or take a datacenter out of replication (mode remove).
//   1. Find a ready Cassandra pod of the source region; read the credentials secret.
//   2. Read the ring (nodetool status, describecluster) and system_schema.keyspaces (SELECT JSON).
//   3. Plan: which keyspaces change, before/after; print it (dry-run stops here).
//   4. Gates: every node UN, one schema version, nothing unreachable, RF <= live nodes.
//   5. Apply every ALTER in ONE session (cqlsh's driver, or cqlsh -f); wait once for schema agreement.
//   6. Re-read the keyspaces and verify each one against the plan.
import * as core from '@actions/core'
import { mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAction } from '../../core/entry.ts'
import { ActionError, PreflightError } from '../../core/errors.ts'
import { textTable } from '../../core/report.ts'
import { redact } from '../../core/secrets.ts'
import { formatDuration, pollUntil } from '../../core/wait.ts'
import { cassandraPods, readyPod } from '../../core/kube/region.ts'
import { ACTION_PERMISSIONS, DEFAULT_NAMES, requirePermissions } from '../../core/kube/permissions.ts'
import { Cqlsh } from '../../core/cassandra/cqlsh.ts'
import { Nodetool, readDatastoreCredentials, type CassandraPods } from '../../core/cassandra/nodetool.ts'
import { checkGates, failedGates, liveNodes } from '../../core/cassandra/gates.ts'
import { KEYSPACES_QUERY, PLAN_HEADERS, altered, planReplication, planRows, toKeyspaces, verifyPlan, type KeyspaceRow } from '../../core/cassandra/keyspaces.ts'
import { schemaVersions, unreachableNodes, type ClusterDescription } from '../../core/cassandra/status.ts'
import { readExpandInputs } from './inputs.ts'

export async function run(): Promise<void> {
  await runAction('expand-keyspaces', async ({ inputs, report }) => {
    const cfg = readExpandInputs(inputs)
    const verb = cfg.mode === 'add' ? `add '${cfg.targetDc}' (RF from '${cfg.sourceDc}')` : `remove '${cfg.targetDc}'`
    core.info(`expand-keyspaces: ${verb} on ${cfg.kube.label}, namespace ${cfg.namespace}${cfg.dryRun ? ', dry run' : ''}`)

    // 0. The identity holds every permission this step needs (asked, not tried).
    await requirePermissions([{ kube: cfg.kube, wanted: ACTION_PERMISSIONS['expand-keyspaces']({ ...DEFAULT_NAMES, namespace: cfg.namespace, credentialsSecret: cfg.credentialsSecret }).source ?? [] }], 'docs/rbac/expand-keyspaces.yaml', core.info)

    // 1. A ready pod of the source region, and the credentials (registered as secrets at once).
    const pod = readyPod(await cassandraPods(cfg.kube, cfg.namespace, cfg.selector), cfg.kube).name
    const need = { ddl: !cfg.ddl, jmx: !cfg.jmx }
    const fromSecret = need.ddl || need.jmx ? await readDatastoreCredentials(cfg.kube, cfg.namespace, cfg.credentialsSecret, need) : {}
    const pods: CassandraPods = { kube: cfg.kube, namespace: cfg.namespace, container: cfg.container }
    const nodetool = new Nodetool(pods, cfg.jmx ?? fromSecret.jmx)
    const cqlsh = new Cqlsh(pods, cfg.ddl ?? fromSecret.ddl, cfg.cqlsh)
    core.info(`using pod ${pod}`)

    // 2. Read the ring and the keyspaces.
    const ring = await nodetool.status(pod)
    const describe = await nodetool.describeCluster(pod)
    core.info('ring:\n' + textTable(['dc', 'rack', 'address', 'state', 'load'], ring.map((n) => [n.datacenter, n.rack, n.address, `${n.status}${n.state}`, n.load ?? '?'])))
    const before = toKeyspaces(await cqlsh.selectJson<KeyspaceRow>(pod, KEYSPACES_QUERY))
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
    const gateRows = gates.map((g) => [g.name, g.ok ? 'yes' : afterInstall(g) ? 'after install' : 'NO', g.detail])
    report.table('Gates', ['gate', 'ok', 'detail'], gateRows)
    core.info('gates:\n' + textTable(['gate', 'ok', 'detail'], gateRows))
    // The datacenters must exist even when nothing changes (a typo must not pass as 'unchanged');
    // the health gates matter only when something will be altered.
    const failed = failedGates(gates).filter((g) => (changes.length > 0 || g.name.includes('datacenter')) && !afterInstall(g))
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

    // 5. Apply all ALTERs in one exec and one session, in plan order (system_auth last in mode
    //    remove), on one coordinator; then wait once for schema agreement.
    const started = Date.now()
    const statements = changes.map((i) => i.statement!)
    const timeoutMs = Math.max(120000, changes.length * 5000)
    const { via } = await cqlsh.session(pod, statements, { timeoutMs, driver: cfg.client === 'driver' })
    const how = via === 'driver' ? "in one session of cqlsh's driver (no agreement wait per statement)" : 'in one cqlsh session'
    if (cfg.client === 'driver' && via !== 'driver') core.info("cqlsh's Python driver could not be used in the pod (or SSL is on): ran cqlsh -f instead")
    core.info(`applied ${changes.length} ALTER KEYSPACE statement(s) ${how} in ${formatDuration(Date.now() - started)}`)
    let last: ClusterDescription | undefined
    await pollUntil(
      async () => {
        last = await nodetool.describeCluster(pod, { quiet: true })
        return schemaVersions(last).length === 1 && unreachableNodes(last).length === 0 ? true : undefined
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

    // 6. Verify.
    const after = toKeyspaces(await cqlsh.selectJson<KeyspaceRow>(pod, KEYSPACES_QUERY))
    const problems = verifyPlan(plan, after)
    if (problems.length) throw new ActionError(`verification after ALTER failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`, 're-run the action; if it persists, read the Cassandra logs of the pod')
    report.output('altered', changes.length)
    report.note(
      `${changes.length} keyspace(s) altered ${how}; schema agreed; verified.` +
        (cfg.mode === 'add' ? ` Next: rebuild the new datacenter '${cfg.targetDc}' from '${cfg.sourceDc}' (rebuild-dc); Cassandra also recommends a full repair after raising RF.` : '')
    )
  })
}

function writePlan(plan: unknown): string {
  const dir = join(process.env.RUNNER_TEMP || tmpdir(), 'mr-actions')
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `expand-keyspaces-plan-${Date.now()}.json`)
  writeFileSync(path, redact(JSON.stringify(plan, null, 2)) + '\n')
  return path
}
