// decommission-dc: take a retired region's datacenter out of the ring (procedure G.3).
//   0. Both clusters are asked for the permissions of docs/rbac/ (SelfSubjectAccessReview): a
//      missing one is named before anything is read or changed.
//   1. From a surviving region: the ring (nodetool status) and the keyspaces; the retiring
//      region's pods matched to its nodes.
//   2. Gates: survivors UN; no keyspace but system_auth still replicates to the DC (the
//      replicate-away stage, expand-keyspaces mode remove, comes first).
//   3. Plan, one step per node, highest ordinal first: decommission (UN), wait (UL, a decommission
//      under way), removenode (DN or no pod; with method uninstall after the user's command).
//   4. Each step polled from the survivors' ring until the node has left, with progress.
//   5. Verify: no node of the DC in the ring. Output: every address the DC had (ring and gossip). A re-run after any stop converges (the plan follows
//      each node's state); with nothing left it changes nothing.
import * as core from '@actions/core'
import { runAction } from '../../core/entry.ts'
import { ActionError, InputErrors } from '../../core/errors.ts'
import { run as exec } from '../../core/exec.ts'
import { textTable } from '../../core/report.ts'
import type { Report } from '../../core/report.ts'
import { Deadline, formatDuration, pollUntil } from '../../core/wait.ts'
import { cassandraPods, readyPod } from '../../core/kube/region.ts'
import { acquireLease, runHolder } from '../../core/kube/lease.ts'
import { ACTION_PERMISSIONS, DEFAULT_NAMES, requirePermissions } from '../../core/kube/permissions.ts'
import type { PodInfo } from '../../core/kube/kubectl.ts'
import { Cqlsh } from '../../core/cassandra/cqlsh.ts'
import { Nodetool, readDatastoreCredentials } from '../../core/cassandra/nodetool.ts'
import { KEYSPACES_QUERY, toKeyspaces, type KeyspaceRow } from '../../core/cassandra/keyspaces.ts'
import type { RingNode } from '../../core/cassandra/status.ts'
import { datacenterAddresses } from '../../core/cassandra/gossip.ts'
import { decommissionGates, decommissionSteps, type DecommissionStep } from '../../core/cassandra/decommission-plan.ts'
import { readDecommissionInputs, type DecommissionConfig } from './inputs.ts'

const address = (p: PodInfo): string | undefined => (p.hostNetwork ? p.hostIP : p.podIP) ?? p.podIP
const HEADERS = ['order', 'node', 'pod', 'host id', 'step', 'why']

export async function run(): Promise<void> {
  await runAction('decommission-dc', async ({ inputs, report }) => {
    const cfg = readDecommissionInputs(inputs)
    core.info(`decommission-dc: take '${cfg.targetDc}' out of the ring (${cfg.method}), seen from '${cfg.sourceDc}' on ${cfg.source.label}${cfg.dryRun ? ', dry run' : ''}`)
    // The retiring region's pods run nodetool decommission; with method uninstall nothing is asked
    // of its cluster (the user's command removes them, and the cluster may be gone already).
    const need = ACTION_PERMISSIONS['decommission-dc']({ ...DEFAULT_NAMES, namespace: cfg.namespace, credentialsSecret: cfg.credentialsSecret }, { uninstall: cfg.method === 'uninstall' })
    await requirePermissions([{ kube: cfg.source, wanted: need.source ?? [] }, { kube: cfg.target, wanted: need.target ?? [] }], 'docs/rbac/expand-keyspaces.yaml (the region that stays) and docs/rbac/decommission-dc.yaml (the retiring region)', core.info)
    const lease = cfg.dryRun ? undefined : await acquireLease(cfg.source, { namespace: cfg.namespace, ...cfg.lease, holder: runHolder(), log: (l) => core.info(l) })
    try {
      await decommission(cfg, report)
    } finally {
      await lease?.release()
    }
  })
}

async function decommission(cfg: DecommissionConfig, report: Report): Promise<void> {
  const t0 = Date.now()
  const deadline = new Deadline(cfg.timeoutMs)
  // 1. The survivors' view.
  const survivor = readyPod(await cassandraPods(cfg.source, cfg.namespace, cfg.selector), cfg.source).name
  const creds = await readDatastoreCredentials(cfg.source, cfg.namespace, cfg.credentialsSecret, { jmx: !cfg.jmx, ddl: true })
  const jmx = cfg.jmx ?? creds.jmx
  const src = new Nodetool({ kube: cfg.source, namespace: cfg.namespace, container: cfg.container }, jmx)
  const tgt = new Nodetool({ kube: cfg.target, namespace: cfg.namespace, container: cfg.container }, jmx)
  const cql = new Cqlsh({ kube: cfg.source, namespace: cfg.namespace, container: cfg.container }, creds.ddl)
  const ring = await src.status(survivor)
  const keyspaces = toKeyspaces(await cql.selectJson<KeyspaceRow>(survivor, KEYSPACES_QUERY))
  const left = ring.filter((n) => n.datacenter === cfg.targetDc)
  // The retiring region's pods may be gone already (uninstalled): then every node is removed.
  const pods = left.length ? await cfg.target.getPods(cfg.namespace, cfg.selector).catch(() => [] as PodInfo[]) : []

  // 2. Gates.
  const errs = decommissionGates(ring, keyspaces, cfg.targetDc, cfg.sourceDc)
  if (errs.length) throw errs.length === 1 ? errs[0] : new InputErrors(errs)

  // Every address of the datacenter, the ring's and, for nodes that already left (a re-run),
  // gossip's: the finalize stage drops them from the other regions' seed lists
  // (configure-seed-host mode forget).
  const gossip = datacenterAddresses(await src.gossipInfo(survivor, { quiet: true }), cfg.targetDc)
  report.output('addresses', [...new Set([...left.map((n) => n.address), ...gossip])].join(','))

  // 3. Plan.
  let steps = decommissionSteps(ring, cfg.targetDc, pods.map((p) => ({ name: p.name, address: address(p) })), { uninstalled: cfg.method === 'uninstall' })
  const rows = steps.map((s, i) => [i + 1, s.address, s.pod ?? '-', s.hostId, s.kind, s.why])
  core.info(`plan (${steps.length} node(s) of '${cfg.targetDc}' in the ring):\n${textTable(HEADERS, rows)}`)
  report.table(`Nodes of ${cfg.targetDc}`, HEADERS, rows)
  report.set('plan', steps)
  if (cfg.dryRun) {
    report.status = 'planned'
    report.output('removed', 0)
    report.note(`Dry run: ${steps.length} node(s) of '${cfg.targetDc}' would leave the ring; nothing was changed.${cfg.method === 'uninstall' && steps.length ? ' The uninstall command would run first.' : ''}`)
    return
  }
  if (!steps.length) {
    report.status = 'unchanged'
    report.output('removed', 0)
    report.note(`No node of '${cfg.targetDc}' is in the ring: nothing to do.`)
    core.info(`no node of '${cfg.targetDc}' in the ring: nothing to do`)
    return
  }

  // 4. Method uninstall: the user's command, then wait until the nodes are down, then removenode.
  if (cfg.method === 'uninstall') {
    await exec('bash', ['-c', cfg.uninstallCommand!], { env: { MR_DATACENTER: cfg.targetDc }, echoOutput: true, timeoutMs: Math.min(deadline.remaining(), 1_800_000) })
    await pollUntil(async () => ((await src.status(survivor, { quiet: true })).some((n) => n.datacenter === cfg.targetDc && n.status === 'U') ? undefined : true), {
      timeoutMs: Math.min(deadline.remaining(), 600_000),
      initialMs: cfg.pollMs,
      maxMs: cfg.pollMs,
      what: `the nodes of '${cfg.targetDc}' to go down after the uninstall command`,
      hint: "the uninstall command did not stop Cassandra in the retiring region: check it, or use method: decommission"
    })
    steps = steps.map((s) => ({ ...s, kind: s.kind === 'wait' ? 'wait' : 'removenode' }))
  }
  let removed = 0
  for (const [i, s] of steps.entries()) {
    core.info(`[${i + 1}/${steps.length}] ${s.kind} ${s.address}${s.pod ? ` (${s.pod})` : ''}: ${s.why}`)
    const ms = await leave(cfg, s, { src, tgt, survivor, deadline })
    removed++
    core.info(`[${i + 1}/${steps.length}] ${s.address} left the ring after ${formatDuration(ms)}`)
  }

  // 5. Verify.
  const after = await src.status(survivor)
  const still = after.filter((n) => n.datacenter === cfg.targetDc)
  if (still.length) throw new ActionError(`nodes of '${cfg.targetDc}' are still in the ring: ${still.map((n) => `${n.address} ${n.status}${n.state}`).join(', ')}`, 're-run decommission-dc: it continues with what is left')
  report.output('removed', removed)
  report.note(`${removed} node(s) of '${cfg.targetDc}' left the ring in ${formatDuration(Date.now() - t0)}; the ring now holds ${after.length} node(s) in ${[...new Set(after.map((n) => n.datacenter))].join(', ')}. Next: take '${cfg.targetDc}' out of system_auth (expand-keyspaces mode remove, run again).`)
}

interface Tools {
  src: Nodetool
  tgt: Nodetool
  survivor: string
  deadline: Deadline
}

/** One node out of the ring; resolves with how long it took once the survivors no longer list it. */
async function leave(cfg: DecommissionConfig, s: DecommissionStep, t: Tools): Promise<number> {
  const started = Date.now()
  let failure: string | undefined
  // decommission / removenode block until done; the survivors' ring is polled meanwhile.
  // --force: Cassandra 4.0+ refuses to decommission while a keyspace keeps at least as many
  // replicas in the DC as it has nodes ("Not enough live nodes to maintain replication factor in
  // keyspace system_auth"), which holds for system_auth until the last node has left, because 4.1+
  // refuses to take a DC with live nodes out of system_auth. Our gates already refused any other
  // keyspace that still replicates here, so the force only skips the check they replace.
  const work =
    s.kind === 'decommission'
      ? t.tgt.run(s.pod!, ['decommission', '--force'], { allowFailure: true, timeoutMs: t.deadline.remaining() })
      : s.kind === 'removenode'
        ? t.src.run(t.survivor, ['removenode', s.hostId], { allowFailure: true, timeoutMs: t.deadline.remaining() })
        : Promise.resolve(undefined)
  void work.then((r) => {
    if (r && r.code !== 0) failure = failureText(`${r.stdout}\n${r.stderr}`)
  })
  let last: RingNode | undefined
  let lastLog = 0
  await pollUntil(
    async () => {
      const ring = await t.src.status(t.survivor, { quiet: true })
      last = ring.find((n) => n.hostId === s.hostId)
      if (!last) return true
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now()
        core.info(`  ${s.address}: ${last.status}${last.state}, load ${last.load ?? '?'}, ${formatDuration(Date.now() - started)} so far`)
      }
      // nodetool gave up while the node is still a normal member: that is a real failure.
      if (failure && last.state === 'N' && !(s.kind === 'removenode' && last.status === 'D' && /already|in progress/i.test(failure))) {
        throw new ActionError(`nodetool ${s.kind} of ${s.address}${s.pod ? ` (${s.pod})` : ''} failed: ${failure}`, s.kind === 'decommission' ? 'read the node\'s log (kubectl logs); re-running decommission-dc is safe' : 'check `nodetool removenode status` on a surviving node; re-running decommission-dc is safe')
      }
      return undefined
    },
    {
      timeoutMs: t.deadline.remaining(),
      initialMs: Math.min(cfg.pollMs, 2000),
      maxMs: cfg.pollMs,
      what: `${s.address} to leave the ring (${s.kind})`,
      lastState: () => (last ? `${last.status}${last.state}` : 'gone'),
      hint: 'a decommission or removenode keeps running inside Cassandra: re-run decommission-dc to keep watching'
    }
  )
  await work.catch(() => undefined)
  return Date.now() - started
}

/** nodetool's own "error: ..." line when it printed one (a stack trace follows it), else the last lines. */
function failureText(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean)
  return lines.find((l) => /^error:/i.test(l)) ?? lines.slice(-3).join(' / ')
}
