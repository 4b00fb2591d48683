import { describe, expect, it } from '@jest/globals'
import {
  decideReplication,
  parseDatastore,
  parseDatastores,
  parseReplications,
  pickDatastore,
  replicationManifest,
  type Replication,
  type ReplicationStatus,
  viewReplication
} from '../../../src/core/cassandra/rebuild-crd-plan.ts'

// The shape the vendor documents (troubleshooting playbook "Cassandra data replication failure").
const DATASTORE = {
  apiVersion: 'apigee.cloud.google.com/v1alpha1',
  kind: 'ApigeeDatastore',
  metadata: { name: 'default', namespace: 'apigee' },
  status: {
    state: 'running',
    cassandraDataReplication: {
      rebuildDetails: {
        'apigee-cassandra-default-0': {
          message: 'failed to rebuild from us-west1: java.lang.IllegalStateException : Unable to find sufficient sources for streaming range (-8567285182390470134,-8567154549835592965] in keyspace system_distributed',
          state: 'error',
          updated: 1641581899
        },
        'apigee-cassandra-default-1': { state: 'complete', updated: '1641581800' }
      },
      state: 'error'
    }
  }
}

const PODS = ['apigee-cassandra-default-0', 'apigee-cassandra-default-1']
const cdr = (source: string, o: Partial<Replication> = {}): Replication => ({ name: 'region-expansion', source, force: false, organization: 'org-1', createdAt: '2024-01-01T00:00:00Z', ...o })
const status = (state: string | undefined, pods: Record<string, string> = {}): ReplicationStatus => ({
  state,
  pods: Object.fromEntries(Object.entries(pods).map(([p, s]) => [p, { state: s, updated: 100 }]))
})
const decide = (replications: Replication[], st?: ReplicationStatus) => decideReplication({ replications, status: st, sourceDc: 'dc-1', organization: 'org-1', pods: PODS })

describe('reading the operator objects', () => {
  it('parses status.cassandraDataReplication as documented (updated as number or digits)', () => {
    const ds = parseDatastore(DATASTORE)
    expect(ds.name).toBe('default')
    expect(ds.replication?.state).toBe('error')
    expect(ds.replication?.pods['apigee-cassandra-default-0']).toEqual({ state: 'error', message: expect.stringMatching(/^failed to rebuild from us-west1: .*Unable to find sufficient sources/), updated: 1641581899 })
    expect(ds.replication?.pods['apigee-cassandra-default-1']).toEqual({ state: 'complete', message: undefined, updated: 1641581800 })
  })

  it('a datastore without replication status has none', () => {
    expect(parseDatastore({ metadata: { name: 'default' }, status: { state: 'running' } }).replication).toBeUndefined()
    expect(parseDatastores({ items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' }, status: { cassandraDataReplication: {} } }] }).map((d) => [d.name, d.replication])).toEqual([
      ['a', undefined],
      ['b', undefined]
    ])
  })

  it('parses CassandraDataReplications (spec.source.region, organizationRef, force)', () => {
    const list = {
      items: [
        { metadata: { name: 'region-expansion', generation: 2, creationTimestamp: '2024-05-01T10:00:00Z' }, spec: { organizationRef: 'org-1', force: true, source: { region: 'dc-1' } } },
        { metadata: { name: 'other' }, spec: {} }
      ]
    }
    expect(parseReplications(list)).toEqual([
      { name: 'region-expansion', organization: 'org-1', source: 'dc-1', force: true, generation: 2, createdAt: '2024-05-01T10:00:00Z' },
      { name: 'other', organization: undefined, source: undefined, force: false, generation: undefined, createdAt: undefined }
    ])
  })

  it('picks the datastore: the one named, the only one, or an error naming the input', () => {
    const all = [{ name: 'default' }, { name: 'other' }]
    expect(pickDatastore([{ name: 'default' }], undefined, 'ns').name).toBe('default')
    expect(pickDatastore(all, 'other', 'ns').name).toBe('other')
    expect(() => pickDatastore(all, undefined, "namespace 'apigee'")).toThrow(/2 ApigeeDatastores in namespace 'apigee' \(default, other\)/)
    expect(() => pickDatastore(all, 'nope', 'ns')).toThrow(/input 'datastore': no ApigeeDatastore 'nope' in ns \(there: default, other\)/)
    expect(() => pickDatastore([], undefined, 'ns')).toThrow(/no ApigeeDatastore in ns: method crd needs the Apigee operator/)
  })
})

describe('replicationManifest', () => {
  it('is the CassandraDataReplication of the vendor guide', () => {
    expect(replicationManifest({ name: 'region-expansion', namespace: 'apigee', organization: 'org-1', sourceDc: 'dc-1', force: true })).toEqual({
      apiVersion: 'apigee.cloud.google.com/v1alpha1',
      kind: 'CassandraDataReplication',
      metadata: { name: 'region-expansion', namespace: 'apigee' },
      spec: { organizationRef: 'org-1', force: true, source: { region: 'dc-1' } }
    })
  })
})

describe('decideReplication (resume)', () => {
  it('nothing there: applies region-expansion without force', () => {
    expect(decide([])).toEqual({ action: 'apply', name: 'region-expansion', why: 'no CassandraDataReplication yet', force: false, recreate: false })
  })

  it('no replication object but a status of unknown source: applies with force', () => {
    const d = decide([], status('complete', { 'apigee-cassandra-default-0': 'complete', 'apigee-cassandra-default-1': 'complete' }))
    expect(d).toMatchObject({ action: 'apply', force: true, recreate: false })
  })

  it('complete for the same source on every pod: skip (no write)', () => {
    const d = decide([cdr('dc-1')], status('complete', { 'apigee-cassandra-default-0': 'complete', 'apigee-cassandra-default-1': 'complete' }))
    expect(d).toEqual({ action: 'skip', name: 'region-expansion', why: 'the operator reports every pod complete for region-expansion (source dc-1)' })
  })

  it('complete but a pod of the DC is missing (added since): re-apply with force', () => {
    const d = decide([cdr('dc-1')], status('complete', { 'apigee-cassandra-default-0': 'complete' }))
    expect(d).toMatchObject({ action: 'apply', force: true, recreate: false })
    expect(d.why).toMatch(/not for apigee-cassandra-default-1/)
  })

  it('running for the same source: attach', () => {
    expect(decide([cdr('dc-1')], status('running', { 'apigee-cassandra-default-0': 'running' }))).toMatchObject({ action: 'attach', name: 'region-expansion' })
  })

  it('applied but not reported yet: attach (wait for the operator)', () => {
    expect(decide([cdr('dc-1')]).why).toMatch(/operator has not reported yet/)
    expect(decide([cdr('dc-1')]).action).toBe('attach')
  })

  it('error: re-apply with force, naming the pod and the operator message', () => {
    const d = decide([cdr('dc-1')], parseDatastore(DATASTORE).replication)
    expect(d).toMatchObject({ action: 'apply', force: true, recreate: false })
    expect(d.why).toMatch(/the last replication failed \(apigee-cassandra-default-0: failed to rebuild from us-west1: .*\): re-applying with force: true/)
  })

  it('error after a forced apply: the same spec again, so delete and create (recreate)', () => {
    expect(decide([cdr('dc-1', { force: true })], status('error', { 'apigee-cassandra-default-0': 'error' }))).toMatchObject({ action: 'apply', force: true, recreate: true })
  })

  it('a replication for another source: re-point that object with force, whatever its state', () => {
    const d = decide([cdr('dc-9', { name: 'typo' })], status('complete', { 'apigee-cassandra-default-0': 'complete', 'apigee-cassandra-default-1': 'complete' }))
    expect(d).toMatchObject({ action: 'apply', name: 'typo', force: true, recreate: false })
    expect(d.why).toMatch(/typo \(source dc-9\) names another source \(state complete\): re-applying typo for dc-1 with force: true/)
  })

  it('ours and another one: ours is re-applied with force', () => {
    const d = decide([cdr('dc-9', { name: 'typo', createdAt: '2024-02-01T00:00:00Z' }), cdr('dc-1')], status('running'))
    expect(d).toMatchObject({ action: 'apply', name: 'region-expansion', force: true })
  })
})

describe('viewReplication (what is news since our apply)', () => {
  const done = status('complete', { 'apigee-cassandra-default-0': 'complete', 'apigee-cassandra-default-1': 'complete' })

  it('right after the apply the old status is not news: every pod waiting, not done', () => {
    const v = viewReplication(done, done, PODS, true)
    expect(v).toMatchObject({ fresh: false, done: false, failed: [], missing: [] })
    expect(v.pods.map((p) => p.state)).toEqual(['waiting', 'waiting'])
  })

  it('an old error is not a failure of our apply; a pod entry the operator has not touched stays waiting', () => {
    const before = status('error', { 'apigee-cassandra-default-0': 'complete', 'apigee-cassandra-default-1': 'error' })
    const now: ReplicationStatus = { state: 'running', pods: { ...before.pods, 'apigee-cassandra-default-0': { state: 'running', updated: 200 } } }
    const v = viewReplication(now, before, PODS, true)
    expect(v.pods.map((p) => p.state)).toEqual(['running', 'waiting'])
    expect(v.failed).toEqual([])
  })

  it('a new error names the pod and the message', () => {
    const now: ReplicationStatus = { state: 'error', pods: { 'apigee-cassandra-default-0': { state: 'error', message: "failed to rebuild from dc-9: Provided datacenter 'dc-9' is not a valid datacenter", updated: 300 } } }
    const v = viewReplication(now, done, PODS, true)
    expect(v.failed).toEqual([{ pod: 'apigee-cassandra-default-0', state: 'error', message: expect.stringMatching(/not a valid datacenter/), updated: 300 }])
  })

  it('an error not pinned on our pods still fails', () => {
    const v = viewReplication({ state: 'error', pods: {} }, undefined, PODS, false)
    expect(v.failed).toEqual([{ pod: '(operator)', state: 'error', message: 'state error' }])
  })

  it('complete on every pod is done; complete without one of our pods is reported missing', () => {
    const fresh = { state: 'complete', pods: { 'apigee-cassandra-default-0': { state: 'complete', updated: 400 }, 'apigee-cassandra-default-1': { state: 'complete', updated: 401 } } }
    expect(viewReplication(fresh, done, PODS, true).done).toBe(true)
    const partial = { state: 'complete', pods: { 'apigee-cassandra-default-0': { state: 'complete', updated: 400 } } }
    expect(viewReplication(partial, done, PODS, true)).toMatchObject({ done: false, missing: ['apigee-cassandra-default-1'] })
  })

  it('attaching (no apply): everything is news, a complete status is done at once', () => {
    expect(viewReplication(done, done, PODS, false)).toMatchObject({ fresh: true, done: true })
  })
})
