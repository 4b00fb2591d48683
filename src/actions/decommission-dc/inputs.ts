// The inputs of decommission-dc, each with its topology fallback; every problem reported at once.
import { ActionError } from '../../core/errors.ts'
import type { InputReader } from '../../core/inputs.ts'
import { rules } from '../../core/patterns.ts'
import { registerSecret } from '../../core/secrets.ts'
import { readRegionInput, readTopologyInput, type Region } from '../../core/topology.ts'
import { readKube, readNamespace } from '../../core/kube/region.ts'
import type { Kubectl } from '../../core/kube/kubectl.ts'
import type { Credentials } from '../../core/cassandra/nodetool.ts'
import { readLeaseInputs, type LeaseInputs } from '../../core/kube/lease.ts'

export interface DecommissionConfig {
  /** The region that stays: ring reads, removenode, the Lease. */
  source: Kubectl
  /** The region retired: its pods run `nodetool decommission`. */
  target: Kubectl
  sourceDc: string
  targetDc: string
  namespace: string
  selector: string
  container?: string
  credentialsSecret: string
  jmx?: Credentials
  method: 'decommission' | 'uninstall'
  uninstallCommand?: string
  pollMs: number
  timeoutMs: number
  dryRun: boolean
  lease: LeaseInputs
}

const fb = <T>(from: string, value: T | undefined) => ({ from, value })

export function readDecommissionInputs(inputs: InputReader): DecommissionConfig {
  const { topology: topo } = readTopologyInput(inputs)
  const src = readRegionInput(inputs, topo, 'source-region')
  const tgt = readRegionInput(inputs, topo, 'target-region')
  const dc = (input: string, r: Region | undefined): string =>
    inputs.requiredString(input, { pattern: rules.datacenter.re, accepted: rules.datacenter.accepted, fallback: fb(`topology regions.${r?.name}.cassandra.datacenter`, r?.cassandra.datacenter) })
  const sourceDc = dc('source-datacenter', src)
  const targetDc = dc('target-datacenter', tgt)
  if (sourceDc && sourceDc === targetDc) inputs.fail(new ActionError(`source and target datacenter are both '${sourceDc}'`, 'target-datacenter is the datacenter to retire; source-datacenter one that stays'))
  const source = readKube(inputs, 'source', src, { topology: topo })
  const target = readKube(inputs, 'target', tgt, { topology: topo })
  const password = inputs.string('jmx-password')
  registerSecret(password)
  const user = inputs.string('jmx-user')
  if (password !== undefined && user === undefined) inputs.fail(new ActionError("input 'jmx-password' is set but 'jmx-user' is not", 'set both, or neither to read them from the credentials secret'))
  const method = inputs.choice('method', ['decommission', 'uninstall'] as const, { default: 'decommission' }) ?? 'decommission'
  const uninstallCommand = inputs.string('uninstall-command')
  if (method === 'uninstall' && !uninstallCommand) inputs.fail(new ActionError("input 'method' is 'uninstall' but 'uninstall-command' is empty", 'give the command that removes the region\'s Cassandra (e.g. helm uninstall ...), or use method: decommission'))
  if (method === 'decommission' && uninstallCommand) inputs.fail(new ActionError("input 'uninstall-command' is set but 'method' is 'decommission'", "set method: uninstall to run it (its nodes are then removed with nodetool removenode), or leave it empty"))
  const cfg: DecommissionConfig = {
    source,
    target,
    sourceDc,
    targetDc,
    namespace: readNamespace(inputs, topo),
    selector: inputs.requiredString('pod-selector', { default: 'app=apigee-cassandra', pattern: /^[\w./-]+(=|==|!=)[\w./-]*(,[\w./-]+(=|==|!=)[\w./-]*)*$/, accepted: 'a label selector such as app=apigee-cassandra' }),
    container: inputs.string('container', { pattern: rules.kubeName.re, accepted: rules.kubeName.accepted }),
    credentialsSecret: inputs.requiredString('credentials-secret', { pattern: rules.kubeName.re, accepted: rules.kubeName.accepted, fallback: fb('topology cassandra.credentialsSecret', topo?.cassandra.credentialsSecret), default: 'apigee-datastore-default-creds' }),
    jmx: user !== undefined && password !== undefined ? { user, password } : undefined,
    method,
    uninstallCommand,
    pollMs: inputs.duration('poll-interval', { default: 10_000, minMs: 200, maxMs: 600_000 }) ?? 10_000,
    timeoutMs: inputs.duration('timeout', { default: 5.5 * 3_600_000, minMs: 1_000 }) ?? 5.5 * 3_600_000,
    dryRun: inputs.bool('dry-run', { default: false }),
    lease: readLeaseInputs(inputs)
  }
  inputs.done()
  return cfg
}
