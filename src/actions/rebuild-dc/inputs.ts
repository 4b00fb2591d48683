// The inputs of rebuild-dc, each with its topology fallback; every problem reported at once,
// before any cluster is touched.
import { ActionError } from '../../core/errors.ts'
import { fallback as fb, type InputReader } from '../../core/inputs.ts'
import { rules } from '../../core/patterns.ts'
import { registerSecret } from '../../core/secrets.ts'
import { fromRegion, readRegionInput, readTopologyInput, type Region } from '../../core/topology.ts'
import type { Kubectl } from '../../core/kube/kubectl.ts'
import { readKube, readNamespace } from '../../core/kube/region.ts'
import { readLeaseInputs, type LeaseInputs } from '../../core/kube/lease.ts'
import type { Credentials } from '../../core/cassandra/nodetool.ts'

/** How the nodes are rebuilt: nodetool jobs in the pods, or a CassandraDataReplication for the Apigee operator. */
export type RebuildMethod = 'nodetool' | 'crd'

export interface RebuildConfig {
  /** The lock: a Lease in the source region's cluster. */
  lease: LeaseInputs
  method: RebuildMethod
  /** method crd: spec.organizationRef of the CassandraDataReplication and the ApigeeDatastore to watch. */
  crd?: { organization: string; datastore?: string }
  sourceDc: string
  targetDc: string
  /** The new region's cluster (the nodes to rebuild). */
  target: Kubectl
  /** The source region's cluster (the spot check's source pod); may be the same cluster. */
  source: Kubectl
  sameCluster: boolean
  namespace: string
  selector: string
  container?: string
  secret: string
  jmx?: Credentials
  ddl?: Credentials
  keyspaces: string[]
  parallelRacks: boolean
  pollMs: number
  progressMs: number
  stallMs: number
  timeoutMs: number
  stateDir: string
  verify: boolean
  spotCheckTables: number
  spotCheckKeys: number
  spotCheckRate: number
  minLoadRatio: number
  repair: boolean
  dryRun: boolean
}

const selectorRe = /^[\w./-]+(=|==|!=)[\w./-]*(,[\w./-]+(=|==|!=)[\w./-]*)*$/
const stateDirRe = /^\/[A-Za-z0-9_./-]{1,200}$/

function credentials(inputs: InputReader, kind: 'ddl' | 'jmx'): Credentials | undefined {
  const password = inputs.string(`${kind}-password`)
  registerSecret(password)
  const user = inputs.string(`${kind}-user`)
  if (password !== undefined && user === undefined) {
    inputs.fail(new ActionError(`input '${kind}-password' is set but '${kind}-user' is not`, 'set both, or neither to read them from the credentials secret'))
  }
  return user !== undefined && password !== undefined ? { user, password } : undefined
}


export function readRebuildInputs(inputs: InputReader): RebuildConfig {
  const { topology: topo } = readTopologyInput(inputs)
  const src = readRegionInput(inputs, topo, 'source-region')
  const tgt = readRegionInput(inputs, topo, 'target-region')
  const dc = (input: string, r: Region | undefined): string =>
    inputs.requiredString(input, { pattern: rules.datacenter.re, accepted: rules.datacenter.accepted, fallback: fromRegion(r, 'cassandra.datacenter', r?.cassandra.datacenter) })
  const sourceDc = dc('source-datacenter', src)
  const targetDc = dc('target-datacenter', tgt)
  if (sourceDc && sourceDc === targetDc) inputs.fail(new ActionError(`source and target datacenter are both '${sourceDc}'`, 'the source is the existing datacenter that holds the data, the target the new one'))
  const target = readKube(inputs, 'target', tgt, { topology: topo })
  // presence only: readKube validates (reading them here too would report a bad value twice)
  const explicitSource = src !== undefined || inputs.given('source-context') || inputs.given('source-kubeconfig')
  const source = explicitSource ? readKube(inputs, 'source', src, { topology: topo }) : target
  const method = inputs.choice('method', ['nodetool', 'crd'] as const, { default: 'nodetool' }) ?? 'nodetool'
  const cfg: RebuildConfig = {
    method,
    crd: crdInputs(inputs, method),
    sourceDc,
    targetDc,
    target,
    source,
    sameCluster: source.sameCluster(target),
    namespace: readNamespace(inputs, topo),
    selector: inputs.requiredString('pod-selector', { default: 'app=apigee-cassandra', pattern: selectorRe, accepted: 'a label selector such as app=apigee-cassandra' }),
    container: inputs.string('container', { pattern: rules.kubeName.re, accepted: rules.kubeName.accepted }),
    secret: inputs.requiredString('credentials-secret', { pattern: rules.kubeName.re, accepted: rules.kubeName.accepted, fallback: fb('topology cassandra.credentialsSecret', topo?.cassandra.credentialsSecret), default: 'apigee-datastore-default-creds' }),
    jmx: credentials(inputs, 'jmx'),
    ddl: credentials(inputs, 'ddl'),
    keyspaces: inputs.list('keyspaces', { item: rules.keyspace.re, accepted: `${rules.keyspace.accepted}, comma- or newline-separated` }),
    parallelRacks: inputs.bool('parallel-racks'),
    pollMs: inputs.duration('poll-interval', { default: 10_000, minMs: 200, maxMs: 600_000 }) ?? 10_000,
    progressMs: inputs.duration('progress-interval', { default: 30_000, minMs: 0, maxMs: 3_600_000 }) ?? 30_000,
    stallMs: inputs.duration('stall-timeout', { default: 15 * 60_000, minMs: 1_000 }) ?? 15 * 60_000,
    timeoutMs: inputs.duration('timeout', { default: 5.5 * 3_600_000, minMs: 1_000 }) ?? 5.5 * 3_600_000,
    stateDir: inputs.string('state-dir', { pattern: stateDirRe, accepted: 'an absolute path inside the pod (letters, digits, _ . / -)' }) ?? '/tmp/mr-actions-rebuild',
    verify: inputs.bool('verify', { default: true }),
    spotCheckTables: inputs.int('spot-check-tables', { min: 0, max: 10_000, default: 50 }) ?? 50,
    spotCheckKeys: inputs.int('spot-check-keys', { min: 1, max: 2_000, default: 1_000 }) ?? 1_000,
    spotCheckRate: inputs.int('spot-check-rate', { min: 1, max: 10_000, default: 100 }) ?? 100,
    minLoadRatio: inputs.number('min-load-ratio', { min: 0, max: 10, default: 0.5 }) ?? 0.5,
    repair: inputs.bool('repair'),
    dryRun: inputs.bool('dry-run'),
    lease: readLeaseInputs(inputs)
  }
  if (method === 'crd' && cfg.keyspaces.length) {
    inputs.fail(new ActionError("input 'keyspaces' cannot be used with method 'crd'", 'the Apigee operator rebuilds every keyspace: leave keyspaces empty, or use method nodetool'))
  }
  if (method === 'crd' && cfg.parallelRacks) {
    inputs.fail(new ActionError("input 'parallel-racks' cannot be used with method 'crd'", 'the Apigee operator picks the order of the nodes: leave parallel-racks false, or use method nodetool'))
  }
  inputs.done()
  return cfg
}

/** organization (required with crd: the topology has no field for it) and datastore. */
function crdInputs(inputs: InputReader, method: RebuildMethod): RebuildConfig['crd'] {
  const organization = inputs.string('organization', {
    required: method === 'crd',
    pattern: rules.kubeName.re,
    accepted: `with method crd, the name of the ApigeeOrganization in the new region's namespace (kubectl -n apigee get apigeeorg), which spec.organizationRef names: ${rules.kubeName.accepted}`
  })
  const datastore = inputs.string('datastore', { pattern: rules.kubeName.re, accepted: `the name of an ApigeeDatastore (kubectl -n apigee get apigeeds): ${rules.kubeName.accepted}` })
  return method === 'crd' ? { organization: organization ?? '', datastore } : undefined
}
