// The inputs of configure-seed-host, each with its topology fallback; every problem at once.
import { ActionError } from '../../core/errors.ts'
import { fallback, type InputReader } from '../../core/inputs.ts'
import { rules } from '../../core/patterns.ts'
import { registerSecret } from '../../core/secrets.ts'
import { fromRegion, readRegionInput, readTopologyInput } from '../../core/topology.ts'
import { readKube, readNamespace } from '../../core/kube/region.ts'
import type { Kubectl } from '../../core/kube/kubectl.ts'
import type { Credentials } from '../../core/cassandra/nodetool.ts'
import type { K8sCluster } from '../../core/overrides/overrides.ts'

export interface SeedConfig {
  mode: 'configure' | 'finalize' | 'forget'
  /** mode forget: the retired region's addresses to drop from the other regions' multiRegionSeedHost. */
  forgetHosts: string[]
  source: Kubectl
  target: Kubectl
  namespace: string
  targetNamespace: string
  selector: string
  container?: string
  credentialsSecret: string
  jmx?: Credentials
  existingOverrides: string[]
  targetOverrides: string
  targetDc: string
  targetRack: string
  targetInstanceId?: string
  /** The new region's k8sCluster.name / region from the inputs or the topology; undefined: keep the file's. */
  targetK8sCluster: K8sCluster
  /** What a fresh copy of the source's overrides gets where neither says. */
  derivedK8sCluster: K8sCluster
  seedCount: number
  seedHosts: string[]
  caSecret: string
  caNamespace: string
  copyNamespace: boolean
  /** auto: replace a different CA only while the new region runs no Cassandra pod */
  replaceCa: 'auto' | 'true' | 'false'
  reapplyCommand?: string
  dryRun: boolean
}


/** k8sCluster.name derived from the target's kube context, when that is a valid cluster name. */
function derivedName(context: string | undefined): string | undefined {
  return context !== undefined && rules.k8sClusterName.re.test(context) ? context : undefined
}

export function readSeedInputs(inputs: InputReader): SeedConfig {
  const { topology: topo } = readTopologyInput(inputs)
  const source = readRegionInput(inputs, topo, 'source-region')
  const target = readRegionInput(inputs, topo, 'target-region')
  const mode = inputs.choice('mode', ['configure', 'finalize', 'forget'] as const, { default: 'configure' }) ?? 'configure'
  const namespace = readNamespace(inputs, topo)
  const targetNamespace = inputs.string('target-namespace', { pattern: rules.kubeName.re, accepted: rules.kubeName.accepted, fallback: fromRegion(target, 'kube.namespace', target?.kube.namespace) }) ?? namespace
  const jmxPassword = inputs.string('jmx-password')
  registerSecret(jmxPassword)
  const jmxUser = inputs.string('jmx-user')
  if (jmxPassword !== undefined && jmxUser === undefined) inputs.fail(new ActionError("input 'jmx-password' is set but 'jmx-user' is not", 'set both, or neither to read them from the credentials secret'))
  // Existing regions' overrides: the input, else every topology region but the target that names one.
  const topoExisting = topo ? Object.values(topo.regions).filter((r) => r.name !== target?.name && r.cassandra.overrides).map((r) => r.cassandra.overrides!) : []
  const sourceFirst = source?.cassandra.overrides ? [source.cassandra.overrides, ...topoExisting.filter((p) => p !== source.cassandra.overrides)] : topoExisting
  const existingOverrides = inputs.list('existing-overrides', { fallback: fallback('topology regions.<existing>.cassandra.overrides', sourceFirst.length ? sourceFirst : undefined) })
  const forgetHosts = inputs.list('forget-hosts', { item: /^[0-9A-Za-z.:-]+$/, accepted: "the retired region's node addresses, comma-separated" })
  if (mode === 'forget' && forgetHosts.length === 0) inputs.fail(new ActionError("input 'forget-hosts' is required in mode 'forget'", "list the retired region's Cassandra node addresses (kubectl get pods -o wide in that region, before it is deleted)"))
  if (mode === 'forget' && existingOverrides.length === 0 && !inputs.topologyUnreadable) inputs.fail(new ActionError("input 'existing-overrides' is required in mode 'forget' (no other region in the topology names an overrides file)", 'list the overrides files of the regions that stay'))
  const targetOverrides = mode === 'forget' ? '' : inputs.requiredString('target-overrides', { fallback: fromRegion(target, 'cassandra.overrides', target?.cassandra.overrides), accepted: 'the path of the new region overrides file' })
  if (mode === 'configure' && existingOverrides.length === 0 && !inputs.topologyUnreadable) {
    inputs.fail(new ActionError("input 'existing-overrides' is required (no existing region in the topology names an overrides file)", 'list the overrides files of the existing regions, the source region first'))
  }
  const targetKube = readKube(inputs, 'target', target, { topology: topo })
  const cfg: SeedConfig = {
    mode,
    forgetHosts,
    source: readKube(inputs, 'source', source, { topology: topo }),
    target: targetKube,
    namespace,
    targetNamespace,
    selector: inputs.requiredString('pod-selector', { default: 'app=apigee-cassandra', pattern: /^[\w./-]+(=|==|!=)[\w./-]*(,[\w./-]+(=|==|!=)[\w./-]*)*$/, accepted: 'a label selector such as app=apigee-cassandra' }),
    container: inputs.string('container', { pattern: rules.kubeName.re, accepted: rules.kubeName.accepted }),
    credentialsSecret: inputs.requiredString('credentials-secret', { pattern: rules.kubeName.re, accepted: rules.kubeName.accepted, fallback: fallback('topology cassandra.credentialsSecret', topo?.cassandra.credentialsSecret), default: 'apigee-datastore-default-creds' }),
    jmx: jmxUser !== undefined && jmxPassword !== undefined ? { user: jmxUser, password: jmxPassword } : undefined,
    existingOverrides,
    targetOverrides,
    targetDc: '',
    targetRack: '',
    targetK8sCluster: {
      name: inputs.string('target-k8s-cluster-name', { pattern: rules.k8sClusterName.re, accepted: rules.k8sClusterName.accepted, fallback: fromRegion(target, 'k8sCluster.name', target?.k8sCluster.name) }),
      region: inputs.string('target-k8s-cluster-region', { pattern: rules.region.re, accepted: rules.region.accepted, fallback: fromRegion(target, 'k8sCluster.region', target?.k8sCluster.region) })
    },
    // for a fresh copy (which holds the source's): an AKS context is named after its cluster
    // (az aks get-credentials), as is a cluster the topology names (regions.<r>.aks.name); the
    // topology's region key is the cluster's region
    derivedK8sCluster: { name: derivedName(targetKube.target.context ?? target?.aks?.name), region: target?.name },
    targetInstanceId: inputs.string('target-instance-id', { pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, accepted: 'an instance ID: letters, digits, _ . -, at most 63' }),
    seedCount: inputs.int('seed-count', { min: 1, max: 10, default: 1 }) ?? 1,
    seedHosts: inputs.list('seed-hosts', { item: /^[0-9A-Za-z.:-]+$/, accepted: 'IP addresses or host names, comma-separated' }),
    caSecret: inputs.requiredString('ca-secret', { pattern: rules.kubeName.re, accepted: rules.kubeName.accepted, fallback: fallback('topology cassandra.caSecret', topo?.cassandra.caSecret), default: 'apigee-ca' }),
    caNamespace: inputs.requiredString('ca-namespace', { pattern: rules.kubeName.re, accepted: rules.kubeName.accepted, fallback: fallback('topology cassandra.caNamespace', topo?.cassandra.caNamespace), default: 'cert-manager' }),
    copyNamespace: inputs.bool('copy-namespace', { default: true }),
    replaceCa: inputs.choice('replace-ca', ['auto', 'true', 'false'] as const, { default: 'auto' }) ?? 'auto',
    reapplyCommand: inputs.string('reapply-command'),
    dryRun: inputs.bool('dry-run', { default: false })
  }
  if (mode === 'configure') {
    cfg.targetDc = inputs.requiredString('target-datacenter', { pattern: rules.datacenter.re, accepted: rules.datacenter.accepted, fallback: fromRegion(target, 'cassandra.datacenter', target?.cassandra.datacenter) })
    cfg.targetRack = inputs.requiredString('target-rack', { pattern: rules.rack.re, accepted: rules.rack.accepted, fallback: fromRegion(target, 'cassandra.rack', target?.cassandra.rack), default: 'ra-1' })
  }
  inputs.done()
  return cfg
}
