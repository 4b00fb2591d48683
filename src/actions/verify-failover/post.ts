// The post step (post-if: always()): runs after main whatever happened, also after a cancel.
// Undoes the fault main recorded in its state; idempotent, so it is harmless after a main that
// already restored. For scale-to-zero the deployment's annotation is the source of truth, for
// http-chaos the HTTPChaos object (deleted only while it carries the owner main recorded).
import * as core from '@actions/core'
import { runAction } from '../../core/entry.ts'
import { run as exec } from '../../core/exec.ts'
import { restoreFromAnnotation, type FaultRecord } from '../../core/failover/fault.ts'
import { deleteOwnedChaos } from '../../core/failover/http-chaos.ts'
import { Kubectl } from '../../core/kube/kubectl.ts'
import { aksKube } from '../../core/kube/aks-region.ts'
import { loadTopology } from '../../core/topology.ts'

export async function runPost(): Promise<void> {
  await runAction('verify-failover-post', async ({ inputs, report }) => {
    const raw = core.getState('fault')
    if (!raw) {
      core.info('verify-failover post: no fault was injected; nothing to restore')
      report.status = 'unchanged'
      return
    }
    const rec = JSON.parse(raw) as FaultRecord
    const restoredByMain = core.getState('restored') === 'true'
    // the fault region's cluster: its context / kubeconfig, else (regions.<r>.aks) through ARM + kubelogin as in main
    const cluster = (k: { context?: string; kubeconfig?: string }): Kubectl => {
      const topoPath = k.context || k.kubeconfig ? undefined : inputs.string('topology')
      const topo = topoPath ? loadTopology(topoPath) : undefined
      return aksKube(inputs, topo?.regions[rec.region], { topology: topo }) ?? new Kubectl({ context: k.context, kubeconfig: k.kubeconfig, label: `region ${rec.region}` })
    }
    if (rec.mode === 'scale-to-zero' && rec.kube) {
      const k = rec.kube
      const r = await restoreFromAnnotation(cluster(k), k, { info: core.info, warning: core.warning })
      report.note(r ? `post: ${r.action} (main had not).` : `post: deployment \`${k.deployment}\` carries no drill annotation; nothing to restore.`)
      report.output('restored', r ? 'true' : 'false')
      if (!r) report.status = 'unchanged'
      return
    }
    if (rec.mode === 'http-chaos' && rec.kube && rec.chaos) {
      const k = rec.kube
      const r = await deleteOwnedChaos(cluster(k), k, rec.chaos.name, rec.chaos.owner, { info: core.info, warning: core.warning })
      report.note(r ? `post: ${r.action} (main had not).` : `post: no httpchaos/${rec.chaos.name} of this run left; nothing to restore.`)
      report.output('restored', r ? 'true' : 'false')
      if (!r) report.status = 'unchanged'
      return
    }
    if (restoredByMain) {
      core.info('verify-failover post: main already restored the fault')
      report.status = 'unchanged'
      return
    }
    const cmd = core.getInput('restore-command')
    if (cmd) {
      await exec('bash', ['-c', cmd], { env: { MR_FAULT_REGION: rec.region }, echoOutput: true, timeoutMs: 120000 })
      report.note('post: ran restore-command.')
      report.output('restored', 'true')
    } else {
      // main refuses fault-mode command without restore-command; an empty one here means the
      // workflow passed a different value to this step
      core.warning('verify-failover post: no restore-command to undo the fault main recorded; restore it by hand')
      report.status = 'unchanged'
    }
  })
}

await runPost()
