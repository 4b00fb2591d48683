// configure-seed-host: let a new region's Cassandra join the existing ring (procedure section B).
//   1. Read: the existing regions' overrides, the source region's Cassandra pods and ring, the
//      CA secret on both clusters, the new region's overrides (or a copy of the source's).
//   2. Preflight (nothing changed before all pass): hostNetwork on everywhere, one clusterName,
//      a distinct instanceID and k8sCluster, the new datacenter not yet in the ring, source pods ready.
//   3. Pick seed hosts (ready, UN, spread over racks; node IPs with hostNetwork; with three or more
//      regions also from each other existing datacenter's nodes in the ring) and write the
//      new region's overrides (k8sCluster, multiRegionSeedHost, datacenter, rack, hostNetwork), comments kept.
//   4. Copy the namespace and the CA secret to the new cluster; verify the CA fingerprints match.
// mode finalize: remove multiRegionSeedHost again and run the caller's re-apply command.
// mode forget (a region's decommission): drop the retired region's addresses from the other
// regions' multiRegionSeedHost, re-applying each file that changed.
import { resolve as resolvePath } from 'node:path'
import * as core from '@actions/core'
import { existsSync, writeFileSync } from 'node:fs'
import { runAction } from '../../core/entry.ts'
import { ActionError, InputErrors, PreflightError } from '../../core/errors.ts'
import { run as runCommand } from '../../core/exec.ts'
import type { Report } from '../../core/report.ts'
import { textTable } from '../../core/report.ts'
import { portable, secretValues, type KubeObject, type Secret } from '../../core/kube/kubectl.ts'
import { cassandraPods } from '../../core/kube/region.ts'
import { ACTION_PERMISSIONS, requirePermissions } from '../../core/kube/permissions.ts'
import { Overrides } from '../../core/overrides/overrides.ts'
import { Nodetool, readDatastoreCredentials } from '../../core/cassandra/nodetool.ts'
import { certFingerprint, otherDatacenters, pickRingSeeds, pickSeeds, preflight, type Seed } from './plan.ts'
import { readSeedInputs, type SeedConfig } from './inputs.ts'

export async function run(): Promise<void> {
  await runAction('configure-seed-host', async ({ inputs, report }) => {
    const cfg = readSeedInputs(inputs)
    if (cfg.mode === 'finalize') return finalize(cfg, report)
    if (cfg.mode === 'forget') return forget(cfg, report)
    core.info(`configure-seed-host: new datacenter '${cfg.targetDc}' rack '${cfg.targetRack}' -> ${cfg.targetOverrides}${cfg.dryRun ? ', dry run' : ''}`)

    // 1. Read everything first.
    const existing = cfg.existingOverrides.map((p) => Overrides.load(p, 'existing overrides file'))
    const targetIsCopy = !existsSync(cfg.targetOverrides)
    const target = targetIsCopy ? Overrides.parse(existing[0].toString(), cfg.targetOverrides) : Overrides.load(cfg.targetOverrides, 'target overrides file')
    const originalText = targetIsCopy ? undefined : target.toString()
    const originalId = target.instanceID
    if (cfg.targetInstanceId) target.setIn(['instanceID'], cfg.targetInstanceId)
    const names = { namespace: cfg.namespace, credentialsSecret: cfg.credentialsSecret, caNamespace: cfg.caNamespace, caSecret: cfg.caSecret }
    const need = ACTION_PERMISSIONS['configure-seed-host'](names)
    const needTarget = ACTION_PERMISSIONS['configure-seed-host']({ ...names, namespace: cfg.targetNamespace }).target ?? []
    await requirePermissions([{ kube: cfg.source, wanted: need.source ?? [] }, { kube: cfg.target, wanted: needTarget }], 'docs/rbac/configure-seed-host-source.yaml and -target.yaml', core.info)
    const k8s = cfg.targetK8sCluster
    const k8sChanged = target.setK8sCluster(targetIsCopy ? { name: k8s.name ?? cfg.derivedK8sCluster.name, region: k8s.region ?? cfg.derivedK8sCluster.region } : k8s)
    const pods = await cassandraPods(cfg.source, cfg.namespace, cfg.selector)
    const ready = pods.find((p) => p.ready)
    let ring: Awaited<ReturnType<Nodetool['status']>> = []
    if (ready) {
      const jmx = cfg.jmx ?? (await readDatastoreCredentials(cfg.source, cfg.namespace, cfg.credentialsSecret, { jmx: true })).jmx
      ring = await new Nodetool({ kube: cfg.source, namespace: cfg.namespace, container: cfg.container }, jmx).status(ready.name)
    }
    const caSource = await cfg.source.getSecret(cfg.caNamespace, cfg.caSecret, ['tls.crt', 'ca.crt'])
    const caTarget = await cfg.target.getSecret(cfg.caNamespace, cfg.caSecret, ['tls.crt', 'ca.crt'])
    const nsSource = cfg.copyNamespace ? await cfg.source.getNamespace(cfg.namespace) : undefined
    const nsTarget = cfg.copyNamespace ? await cfg.target.getNamespace(cfg.targetNamespace) : undefined
    const caNsTarget = caTarget ? true : await cfg.target.getNamespace(cfg.caNamespace)
    // the new region's pods: they decide replace-ca auto, and whether a new DC in the ring is ours (a resumed promotion)
    const targetPods = caTarget || ring.some((n) => n.datacenter === cfg.targetDc) ? await cfg.target.getPods(cfg.targetNamespace, cfg.selector) : []

    // 2. Preflight.
    const problems = preflight({ existing, target, targetIsCopy, targetDc: cfg.targetDc, ring, sourcePods: pods, targetPods, seedCount: cfg.seedCount })
    const hostNetwork = existing[0].cassandra.hostNetwork === true
    const seeds: Seed[] = cfg.seedHosts.length
      ? cfg.seedHosts.map((ip) => ({ pod: '(input)', ip, rack: ring.find((n) => n.address === ip)?.rack ?? '?' }))
      : [...pickSeeds(pods, ring, cfg.seedCount, hostNetwork), ...pickRingSeeds(ring, otherDatacenters(ring, pods, cfg.targetDc), cfg.seedCount)]
    if (seeds.length === 0 && !problems.length) problems.push(new ActionError(`no seed host candidate: no ready pod of ${cfg.source.label} is UN in the ring`, 'check nodetool status in the source region'))
    if (seeds.length < cfg.seedCount) core.warning(`only ${seeds.length} seed host(s) available, ${cfg.seedCount} asked`)
    let fingerprint: string | undefined
    if (!caSource) problems.push(new ActionError(`CA secret '${cfg.caNamespace}/${cfg.caSecret}' not found on ${cfg.source.label}`, "check inputs 'ca-secret' / 'ca-namespace' (topology cassandra.caSecret / caNamespace)"))
    else fingerprint = certFingerprint(caPem(caSource), `secret ${cfg.caNamespace}/${cfg.caSecret} on ${cfg.source.label}`)
    const targetFp = caTarget ? certFingerprint(caPem(caTarget), `secret ${cfg.caNamespace}/${cfg.caSecret} on ${cfg.target.label}`) : undefined
    // The new cluster's cert-manager may have made its own CA: replacing it is the procedure's
    // step B.4, safe while no Cassandra runs there (auto); with Cassandra running it would cut
    // those nodes off, so auto refuses and names them.
    const replaceCa = cfg.replaceCa === 'true' || (cfg.replaceCa === 'auto' && targetPods.length === 0)
    if (targetFp && fingerprint && targetFp !== fingerprint && !replaceCa) {
      const why = cfg.replaceCa === 'false' ? 'replace-ca is false' : `Cassandra already runs there (${targetPods.map((p) => p.name).join(', ')})`
      problems.push(
        new ActionError(
          `CA secret '${cfg.caNamespace}/${cfg.caSecret}' on ${cfg.target.label} holds another CA (SHA-256 ${targetFp}) than on ${cfg.source.label} (${fingerprint}), and ${why}; mTLS between the regions would fail (PKIX path building failed)`,
          "set input 'replace-ca: true' to overwrite it with the source's CA, then restart the new region's Cassandra pods"
        )
      )
    }
    if (!caNsTarget) problems.push(new ActionError(`namespace '${cfg.caNamespace}' does not exist on ${cfg.target.label}`, 'install cert-manager in the new cluster first'))
    if (cfg.copyNamespace && !nsSource) problems.push(new ActionError(`namespace '${cfg.namespace}' not found on ${cfg.source.label}`, "check input 'namespace'"))
    if (problems.length) {
      const e = problems.length === 1 ? problems[0] : new InputErrors(problems)
      throw new PreflightError(`preflight failed; nothing was changed:\n${e.describe()}`)
    }

    // 3. The new region's overrides.
    const changedKeys = [...k8sChanged, ...target.setSeed({ seedHosts: seeds.map((s) => s.ip), datacenter: cfg.targetDc, rack: cfg.targetRack })]
    const writeFile = target.toString() !== originalText
    if (target.instanceID !== originalId) changedKeys.unshift('instanceID')
    core.info('seed hosts:\n' + textTable(['pod', 'address', 'rack'], seeds.map((s) => [s.pod, s.ip, s.rack])))
    const plan: [string, string, string][] = [
      [writeFile ? (targetIsCopy ? 'create' : 'update') : 'keep', `overrides ${cfg.targetOverrides}`, targetIsCopy ? `copy of ${existing[0].path}; ${changedKeys.join(', ')}` : changedKeys.join(', ') || 'already configured'],
      [cfg.copyNamespace ? (nsTarget ? 'keep' : 'create') : 'skip', `namespace ${cfg.targetNamespace} on ${cfg.target.label}`, cfg.copyNamespace ? (nsTarget ? 'exists' : `copy of ${cfg.namespace}`) : 'copy-namespace is false'],
      [caTarget ? (targetFp === fingerprint ? 'keep' : 'replace') : 'create', `secret ${cfg.caNamespace}/${cfg.caSecret} on ${cfg.target.label}`, `CA SHA-256 ${fingerprint}`]
    ]
    core.info('plan:\n' + textTable(['change', 'object', 'detail'], plan))
    report.table('Plan', ['change', 'object', 'detail'], plan)
    report.table('Seed hosts', ['pod', 'address', 'rack'], seeds.map((s) => [s.pod, s.ip, s.rack]))
    report.output('seed-hosts', seeds.map((s) => s.ip).join(','))
    report.output('overrides-path', cfg.targetOverrides)
    report.output('ca-fingerprint', fingerprint!)
    const writes = plan.filter(([c]) => c === 'create' || c === 'update' || c === 'replace').length
    if (cfg.dryRun) {
      report.status = 'planned'
      report.output('changes', 0)
      report.note(`Dry run: ${writes} change(s) planned, none made.`)
      return
    }
    if (writeFile) {
      writeFileSync(cfg.targetOverrides, target.toString())
      core.info(`wrote ${cfg.targetOverrides} (${changedKeys.join(', ') || 'copied'})`)
    }

    // 4. Namespace and CA secret to the new cluster.
    if (cfg.copyNamespace && !nsTarget) await cfg.target.create(portable(nsSource as KubeObject, { namespace: cfg.targetNamespace }))
    const caCopy = portable(caSource as Secret)
    if (!caTarget) await cfg.target.create(caCopy, cfg.caNamespace)
    else if (targetFp !== fingerprint) await cfg.target.replace(caCopy, cfg.caNamespace)
    const check = await cfg.target.getSecret(cfg.caNamespace, cfg.caSecret, ['tls.crt', 'ca.crt'])
    const checkFp = check ? certFingerprint(caPem(check), `secret ${cfg.caNamespace}/${cfg.caSecret} on ${cfg.target.label}`) : undefined
    if (checkFp !== fingerprint) {
      throw new ActionError(`CA on ${cfg.target.label} has fingerprint ${checkFp ?? '(missing)'} after the copy, expected ${fingerprint}`, 'something else manages that secret in the new cluster (cert-manager?): stop it and re-run')
    }
    core.info(`CA fingerprints equal on both clusters: ${fingerprint}`)
    report.output('changes', writes)
    if (writes === 0) report.status = 'unchanged'
    report.note(`CA certificate SHA-256 ${fingerprint} on both clusters. Next: install the new region with ${cfg.targetOverrides}, then expand-keyspaces.`)
  })
}

function caPem(s: Secret): string {
  const v = secretValues(s)
  return v['tls.crt'] ?? v['ca.crt'] ?? ''
}

async function finalize(cfg: SeedConfig, report: Report): Promise<void> {
  if (cfg.dryRun && !existsSync(cfg.targetOverrides)) {
    // a dry run of a whole promotion: the seed stage (a dry run too) wrote no file
    report.status = 'planned'
    report.output('overrides-path', cfg.targetOverrides)
    report.output('seed-hosts', '')
    report.output('changes', 0)
    report.note(`Dry run: ${cfg.targetOverrides} does not exist yet (the seed stage writes it). Once it has, finalize removes its cassandra.multiRegionSeedHost${cfg.reapplyCommand ? ' and runs the re-apply command' : ' (then re-apply the file yourself)'}.`)
    return
  }
  const o = Overrides.load(cfg.targetOverrides, 'target overrides file')
  const had = o.cassandra.multiRegionSeedHost
  core.info(`configure-seed-host finalize: ${cfg.targetOverrides}: multiRegionSeedHost ${had ? `'${had}' -> removed` : 'not set'}${cfg.dryRun ? ', dry run' : ''}`)
  report.output('overrides-path', cfg.targetOverrides)
  report.output('seed-hosts', '')
  if (cfg.dryRun) {
    report.status = 'planned'
    report.output('changes', 0)
    report.note(had ? `Dry run: would remove cassandra.multiRegionSeedHost (${had}) from ${cfg.targetOverrides}${cfg.reapplyCommand ? ' and run the re-apply command' : ''}.` : 'Dry run: no seed host to remove.')
    return
  }
  if (o.removeSeed()) writeFileSync(cfg.targetOverrides, o.toString())
  report.output('changes', had ? 1 : 0)
  if (cfg.reapplyCommand) {
    // The command finds the file it must apply in $MR_OVERRIDES (as the install stage's does).
    await runCommand('sh', ['-c', cfg.reapplyCommand], { echoOutput: true, env: { MR_OVERRIDES: resolvePath(cfg.targetOverrides) } })
    report.note(`Removed the seed host from ${cfg.targetOverrides} and re-applied it.`)
  } else {
    if (had) core.warning(`multiRegionSeedHost removed from ${cfg.targetOverrides}: re-apply it now (e.g. apigeectl apply -f ${cfg.targetOverrides} --datastore, or helm upgrade with it)`)
    report.note(had ? `Removed the seed host from ${cfg.targetOverrides}. **Re-apply that file** (no reapply-command was given).` : 'No seed host in the overrides: nothing to do.')
    if (!had) report.status = 'unchanged'
  }
}

async function forget(cfg: SeedConfig, report: Report): Promise<void> {
  const gone = new Set(cfg.forgetHosts)
  const changed: string[] = []
  const rows: string[][] = []
  for (const path of cfg.existingOverrides) {
    const o = Overrides.load(path, 'existing overrides file')
    const had = (o.cassandra.multiRegionSeedHost ?? '').split(',').map((h) => h.trim()).filter(Boolean)
    const keep = had.filter((h) => !gone.has(h))
    rows.push([path, had.join(',') || '(none)', keep.length === had.length ? 'unchanged' : keep.join(',') || '(removed)'])
    if (keep.length === had.length) continue
    changed.push(path)
    if (cfg.dryRun) continue
    if (keep.length) o.setIn(['cassandra', 'multiRegionSeedHost'], keep.join(','))
    else o.removeSeed()
    writeFileSync(path, o.toString())
    if (cfg.reapplyCommand) await runCommand('sh', ['-c', cfg.reapplyCommand], { echoOutput: true, env: { MR_OVERRIDES: resolvePath(path) } })
  }
  core.info(`configure-seed-host forget ${cfg.forgetHosts.join(', ')}:\n${textTable(['overrides', 'multiRegionSeedHost', 'after'], rows)}`)
  report.table('Seed hosts of the regions that stay', ['overrides', 'multiRegionSeedHost', 'after'], rows)
  report.output('changes', cfg.dryRun ? 0 : changed.length)
  report.output('changed-overrides', cfg.dryRun ? '' : changed.join('\n'))
  if (!changed.length) {
    report.status = 'unchanged'
    report.note('No overrides file names a retired address: nothing to do.')
  } else if (cfg.dryRun) {
    report.status = 'planned'
    report.note(`Dry run: ${changed.length} overrides file(s) would change.`)
  } else report.note(`${changed.length} overrides file(s) no longer name the retired addresses${cfg.reapplyCommand ? ' and were re-applied' : ': **re-apply them**'}.`)
}
