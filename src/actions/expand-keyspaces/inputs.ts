// The inputs of expand-keyspaces, each with its topology fallback; every problem reported at once.
import { ActionError } from '../../core/errors.ts'
import { fallback as fb, type InputReader } from '../../core/inputs.ts'
import { rules } from '../../core/patterns.ts'
import { registerSecret } from '../../core/secrets.ts'
import { fromRegion, readRegionInput, readTopologyInput, type Region } from '../../core/topology.ts'
import { readKube, readNamespace } from '../../core/kube/region.ts'
import type { Kubectl } from '../../core/kube/kubectl.ts'
import type { Credentials } from '../../core/cassandra/nodetool.ts'
import { parseRfList, type Mode } from '../../core/cassandra/keyspaces.ts'
import { readLeaseInputs, type LeaseInputs } from '../../core/kube/lease.ts'

export interface ExpandConfig {
  mode: Mode
  kube: Kubectl
  namespace: string
  selector: string
  container?: string
  credentialsSecret: string
  ddl?: Credentials
  jmx?: Credentials
  sourceDc: string
  targetDc: string
  rf?: number
  rfByKeyspace: Record<string, number>
  convertSimple: boolean
  include: string[]
  exclude: string[]
  cqlsh: { host?: string; port?: number; ssl: boolean; requestTimeoutS?: number }
  schemaTimeoutMs: number
  /** driver: cqlsh's Python driver, one agreement wait at the end; cqlsh: cqlsh -f (waits per statement) */
  client: 'driver' | 'cqlsh'
  dryRun: boolean
  lease: LeaseInputs
}


function credentials(inputs: InputReader, kind: 'ddl' | 'jmx'): Credentials | undefined {
  const password = inputs.string(`${kind}-password`)
  registerSecret(password)
  const user = inputs.string(`${kind}-user`)
  if (password !== undefined && user === undefined) {
    inputs.fail(new ActionError(`input '${kind}-password' is set but '${kind}-user' is not`, `set both, or neither to read them from the credentials secret`))
  }
  return user !== undefined && password !== undefined ? { user, password } : undefined
}

export function readExpandInputs(inputs: InputReader): ExpandConfig {
  const { topology: topo } = readTopologyInput(inputs)
  const source = readRegionInput(inputs, topo, 'source-region')
  const target = readRegionInput(inputs, topo, 'target-region')
  const mode = inputs.choice('mode', ['add', 'remove'] as const, { default: 'add' }) ?? 'add'
  const kube = readKube(inputs, 'source', source, { topology: topo })
  const namespace = readNamespace(inputs, topo)
  const selector = inputs.requiredString('pod-selector', { default: 'app=apigee-cassandra', pattern: /^[\w./-]+(=|==|!=)[\w./-]*(,[\w./-]+(=|==|!=)[\w./-]*)*$/, accepted: 'a label selector such as app=apigee-cassandra' })
  const container = inputs.string('container', { pattern: rules.kubeName.re, accepted: rules.kubeName.accepted })
  const credentialsSecret = inputs.requiredString('credentials-secret', { pattern: rules.kubeName.re, accepted: rules.kubeName.accepted, fallback: fb('topology cassandra.credentialsSecret', topo?.cassandra.credentialsSecret), default: 'apigee-datastore-default-creds' })
  const ddl = credentials(inputs, 'ddl')
  const jmx = credentials(inputs, 'jmx')
  const dc = (input: string, region: Region | undefined): string =>
    inputs.requiredString(input, { pattern: rules.datacenter.re, accepted: rules.datacenter.accepted, fallback: fromRegion(region, 'cassandra.datacenter', region?.cassandra.datacenter) })
  const sourceDc = dc('source-datacenter', source)
  const targetDc = dc('target-datacenter', target)
  if (sourceDc && sourceDc === targetDc) inputs.fail(new ActionError(`source and target datacenter are both '${sourceDc}'`, 'the target is the datacenter to add or remove; the source an existing one that stays'))
  const rf = inputs.int('replication-factor', { min: 1, max: 20 })
  const rfList = inputs.list('replication-factors', { accepted: 'keyspace=RF items such as cache_x_hybrid=3, system_auth=3' })
  const parsed = parseRfList(rfList)
  if ('error' in parsed) inputs.fail(new ActionError(`input 'replication-factors': ${parsed.error}`, `keyspace=RF items separated by commas or newlines, each keyspace once, RF 1..20; ${rules.keyspace.accepted}`))
  const include = inputs.list('keyspaces', { item: rules.keyspace.re, accepted: `${rules.keyspace.accepted}, comma-separated` })
  const exclude = inputs.list('exclude-keyspaces', { item: rules.keyspace.re, accepted: `${rules.keyspace.accepted}, comma-separated` })
  const host = inputs.string('cqlsh-host', { pattern: /^[A-Za-z0-9.:-]+$/, accepted: 'a host name or IP address' })
  const port = inputs.int('cqlsh-port', { min: 1, max: 65535 })
  const ssl = inputs.bool('cqlsh-ssl', { default: false })
  const requestTimeoutS = inputs.int('cqlsh-request-timeout', { min: 1, max: 3600, default: 60 })
  const schemaTimeoutMs = inputs.duration('schema-agreement-timeout', { default: 120000, minMs: 1000 }) ?? 120000
  const dryRun = inputs.bool('dry-run', { default: false })
  const client = inputs.choice('cql-client', ['driver', 'cqlsh'] as const, { default: 'driver' }) ?? 'driver'
  const convertSimple = inputs.bool('convert-simple-strategy', { default: false })
  if (mode === 'remove' && (rf !== undefined || rfList.length)) {
    inputs.fail(new ActionError("inputs 'replication-factor' / 'replication-factors' have no meaning in mode 'remove'", 'leave them empty when removing a datacenter'))
  }
  const lease = readLeaseInputs(inputs)
  inputs.done()
  return {
    lease,
    mode,
    kube,
    namespace,
    selector,
    container,
    credentialsSecret,
    ddl,
    jmx,
    sourceDc,
    targetDc,
    rf,
    rfByKeyspace: 'ok' in parsed ? parsed.ok : {},
    convertSimple,
    include,
    exclude,
    cqlsh: { host, port, ssl, requestTimeoutS },
    schemaTimeoutMs,
    client,
    dryRun
  }
}
