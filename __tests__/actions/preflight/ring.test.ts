// evaluateRing on a promotion resumed by a new run: the new datacenter already in the ring is a
// warning when its nodes are the new region's own Cassandra pods, an error for any node of it that
// no pod of the new region accounts for (left by a region deleted without decommission).
import { evaluateRing, type RingReading } from '../../../src/actions/preflight/online.ts'
import type { PodInfo } from '../../../src/core/kube/kubectl.ts'
import type { RingNode } from '../../../src/core/cassandra/status.ts'

const node = (address: string, datacenter: string, status: 'U' | 'D' = 'U'): RingNode => ({ datacenter, status, state: 'N', address, hostId: `id-${address}`, rack: 'ra-1' })
const pod = (name: string, ip: string): PodInfo => ({ name, namespace: 'apigee', labels: {}, phase: 'Running', ready: true, podIP: ip, hostIP: ip, hostNetwork: true, containers: ['apigee-cassandra'] })
const source = [pod('apigee-cassandra-default-0', '10.1.0.4'), pod('apigee-cassandra-default-1', '10.1.0.5')]
const reading = (ring: RingNode[], targetPods: PodInfo[]): RingReading => ({
  pods: source,
  ring,
  describe: { schemaVersions: { v1: ring.map((n) => n.address) }, datacenters: {}, keyspaces: {} },
  targetNodes: 2,
  hostNetwork: true,
  targetPods
})
const base = [node('10.1.0.4', 'dc-1'), node('10.1.0.5', 'dc-1')]

test('a fresh region: no finding about the target datacenter', () => {
  const { findings } = evaluateRing('eastus', 'dc-1', 'dc-2', reading(base, []))
  expect(findings.filter((f) => f.check === 'datacenter')).toEqual([])
})

test("the new region's own nodes in the ring: a warning that this run resumes, no error", () => {
  const { findings, facts } = evaluateRing('eastus', 'dc-1', 'dc-2', reading([...base, node('10.2.0.4', 'dc-2'), node('10.2.0.5', 'dc-2')], [pod('apigee-cassandra-default-0', '10.2.0.4'), pod('apigee-cassandra-default-1', '10.2.0.5')]))
  expect(findings.filter((f) => f.check === 'datacenter').map((f) => [f.level, f.message])).toEqual([['warning', expect.stringMatching(/^target datacenter 'dc-2' is already in the ring with 2 node\(s\) of the new region/)]])
  expect(facts.targetDcNodes).toEqual(['10.2.0.4', '10.2.0.5'])
})

test('a node of the new datacenter that no pod of the new region accounts for: an error naming only it', () => {
  const { findings } = evaluateRing('eastus', 'dc-1', 'dc-2', reading([...base, node('10.2.0.4', 'dc-2'), node('10.9.9.9', 'dc-2', 'D')], [pod('apigee-cassandra-default-0', '10.2.0.4')]))
  const errors = findings.filter((f) => f.level === 'error' && f.check === 'datacenter')
  expect(errors.map((f) => f.message)).toEqual([expect.stringMatching(/^target datacenter 'dc-2' is already in the ring: 10\.9\.9\.9 \(dc-2\/ra-1, DN\)$/)])
})
