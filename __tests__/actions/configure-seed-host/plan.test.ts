import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash, X509Certificate } from 'node:crypto'
import { certFingerprint, otherDatacenters, pickRingSeeds, pickSeeds, preflight } from '../../../src/actions/configure-seed-host/plan.ts'
import { Overrides } from '../../../src/core/overrides/overrides.ts'
import type { PodInfo } from '../../../src/core/kube/kubectl.ts'
import type { RingNode } from '../../../src/core/cassandra/status.ts'

const pod = (i: number, ready = true): PodInfo => ({
  name: `apigee-cassandra-default-${i}`,
  namespace: 'apigee',
  labels: {},
  phase: ready ? 'Running' : 'Pending',
  ready,
  podIP: `10.244.0.${i + 10}`,
  hostIP: `10.1.0.${i + 4}`,
  hostNetwork: true,
  containers: ['apigee-cassandra']
})
const node = (ip: string, rack: string, dc = 'dc-1', status: 'U' | 'D' = 'U'): RingNode => ({ datacenter: dc, status, state: 'N', address: ip, hostId: 'x', rack })
const ring = [node('10.1.0.4', 'ra-1'), node('10.1.0.5', 'ra-2'), node('10.1.0.6', 'ra-1'), node('10.1.0.7', 'ra-2')]
const pods = [0, 1, 2, 3].map((i) => pod(i))

describe('pickSeeds', () => {
  it('spreads over racks, in statefulset order, using node IPs with hostNetwork', () => {
    expect(pickSeeds(pods, ring, 2, true).map((s) => `${s.pod}@${s.ip}/${s.rack}`)).toEqual(['apigee-cassandra-default-0@10.1.0.4/ra-1', 'apigee-cassandra-default-1@10.1.0.5/ra-2'])
    expect(pickSeeds(pods, ring, 3, true).map((s) => s.pod)).toEqual(['apigee-cassandra-default-0', 'apigee-cassandra-default-1', 'apigee-cassandra-default-2'])
  })
  it('skips pods not ready and nodes not UN', () => {
    const r = [node('10.1.0.4', 'ra-1', 'dc-1', 'D'), ...ring.slice(1)]
    expect(pickSeeds([pod(0), pod(1, false), pod(2), pod(3)], r, 2, true).map((s) => s.pod)).toEqual(['apigee-cassandra-default-2', 'apigee-cassandra-default-3'])
  })
  it('uses pod IPs without hostNetwork', () => {
    const p = pods.map((x) => ({ ...x, hostNetwork: false }))
    const r = [node('10.244.0.10', 'ra-1')]
    expect(pickSeeds(p, r, 1, false)).toEqual([{ pod: 'apigee-cassandra-default-0', ip: '10.244.0.10', rack: 'ra-1' }])
  })
})

describe('a third region: seeds from the other existing datacenters too', () => {
  const three = [...ring, node('10.2.0.10', 'ra-1', 'dc-2'), node('10.2.0.9', 'ra-2', 'dc-2'), node('10.2.0.11', 'ra-1', 'dc-2'), node('10.3.0.4', 'ra-1', 'dc-3')]
  it('the datacenters besides the source pods\' and the new one', () => {
    expect(otherDatacenters(three, pods, 'dc-3')).toEqual(['dc-2'])
    expect(otherDatacenters(ring, pods, 'dc-2')).toEqual([]) // two regions: nothing else
    expect(otherDatacenters(three, pods, 'dc-4')).toEqual(['dc-2', 'dc-3'])
  })
  it('UN ring nodes of each, spread over racks, in address order within a rack', () => {
    expect(pickRingSeeds(three, ['dc-2'], 2).map((s) => `${s.ip}/${s.rack}`)).toEqual(['10.2.0.10/ra-1', '10.2.0.9/ra-2'])
    expect(pickRingSeeds(three, ['dc-2'], 3).map((s) => s.ip)).toEqual(['10.2.0.10', '10.2.0.9', '10.2.0.11'])
    const down = three.map((n) => (n.address === '10.2.0.10' ? { ...n, status: 'D' as const } : n))
    expect(pickRingSeeds(down, ['dc-2', 'dc-3'], 1).map((s) => `${s.pod} ${s.ip}`)).toEqual(['(dc-2) 10.2.0.11', '(dc-3) 10.3.0.4'])
  })
})

describe('preflight', () => {
  const src = Overrides.parse('instanceID: a\ncassandra:\n  hostNetwork: true\n  clusterName: c1\n  datacenter: dc-1\n', 'east.yaml')
  const tgt = (t: string) => Overrides.parse(t, 'west.yaml')
  const base = { existing: [src], targetIsCopy: false, targetDc: 'dc-2', ring, sourcePods: pods, seedCount: 1 }
  it('passes a good setup', () => {
    expect(preflight({ ...base, target: tgt('instanceID: b\ncassandra:\n  clusterName: c1\n') })).toEqual([])
  })
  it('names every problem', () => {
    const noHn = Overrides.parse('instanceID: a\ncassandra:\n  clusterName: c1\n', 'east.yaml')
    const errs = preflight({
      ...base,
      existing: [noHn],
      target: tgt('instanceID: a\ncassandra:\n  clusterName: c2\n'),
      targetIsCopy: true,
      ring: [...ring, node('10.2.0.1', 'ra-1', 'dc-2')],
      sourcePods: [pod(0), pod(1, false)]
    }).map((e) => e.describe())
    expect(errs).toEqual([
      expect.stringMatching(/east.yaml: cassandra.hostNetwork is not set/),
      expect.stringMatching(/clusterName differs between regions: east.yaml: c1, west.yaml: c2/),
      expect.stringMatching(/instanceID 'a' of west.yaml is also the instanceID of east.yaml \(the file is a copy\)[\s\S]*target-instance-id/),
      expect.stringMatching(/datacenter 'dc-2' is already in the ring \(10.2.0.1 UN\)/),
      expect.stringMatching(/source Cassandra pods not ready: apigee-cassandra-default-1 \(Pending\)/)
    ])
  })
  it('refuses the datacenter of an existing region, even when the copied overrides name it', () => {
    const errs = preflight({ ...base, targetDc: 'dc-1', targetIsCopy: true, target: tgt('instanceID: b\ncassandra:\n  clusterName: c1\n  datacenter: dc-1\n') }).map((e) => e.message)
    expect(errs).toEqual([expect.stringMatching(/'dc-1' is the datacenter of an existing region \(east.yaml\)/), expect.stringMatching(/'dc-1' is already in the ring/)])
  })
  it('refuses a target whose k8sCluster is the one of an existing region, naming the inputs that fix it', () => {
    const east = Overrides.parse('instanceID: a\nk8sCluster:\n  name: aks-east\n  region: eastus\ncassandra:\n  hostNetwork: true\n  clusterName: c1\n', 'east.yaml')
    const errs = preflight({ ...base, existing: [east], target: tgt('instanceID: b\nk8sCluster:\n  name: aks-east\n  region: eastus\ncassandra:\n  clusterName: c1\n') }).map((e) => e.describe())
    expect(errs).toEqual([expect.stringMatching(/west.yaml: k8sCluster \(name 'aks-east', region 'eastus'\) equals the k8sCluster of east.yaml[\s\S]*fix: .*'target-k8s-cluster-name' and 'target-k8s-cluster-region'/)])
    expect(preflight({ ...base, existing: [east], target: tgt('instanceID: b\nk8sCluster:\n  name: aks-west\n  region: westus\ncassandra:\n  clusterName: c1\n') })).toEqual([])
  })
  it('accepts the new DC in the ring on a re-run (the target overrides already name it)', () => {
    expect(preflight({ ...base, ring: [...ring, node('10.2.0.1', 'ra-1', 'dc-2')], target: tgt('instanceID: b\ncassandra:\n  clusterName: c1\n  datacenter: dc-2\n') })).toEqual([])
  })
  // a new run of the workflow: fresh checkout, the overrides file is a copy again
  const newRegionPod = (i: number): PodInfo => ({ ...pod(i), podIP: `10.2.0.${i + 1}`, hostIP: `10.2.0.${i + 1}` })
  const copy = { ...base, targetIsCopy: true, target: tgt('instanceID: b\ncassandra:\n  clusterName: c1\n') }
  it('accepts the new DC in the ring on a new run when every node of it is a pod of the new region', () => {
    const r = [...ring, node('10.2.0.1', 'ra-1', 'dc-2'), node('10.2.0.2', 'ra-1', 'dc-2')]
    expect(preflight({ ...copy, ring: r, targetPods: [newRegionPod(0), newRegionPod(1)] })).toEqual([])
  })
  it('refuses, naming only it, a node of the new DC that no pod of the new region accounts for', () => {
    const r = [...ring, node('10.2.0.1', 'ra-1', 'dc-2'), node('10.2.0.9', 'ra-1', 'dc-2', 'D')]
    const errs = preflight({ ...copy, ring: r, targetPods: [newRegionPod(0)] }).map((e) => e.message)
    expect(errs).toEqual([expect.stringMatching(/^datacenter 'dc-2' is already in the ring \(10.2.0.9 DN\)$/)])
  })
})

describe('certFingerprint', () => {
  it('is the SHA-256 of the DER certificate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-'))
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k'), '-out', join(dir, 'c'), '-subj', '/CN=apigee-ca', '-days', '1'], { stdio: 'ignore' })
    const pem = readFileSync(join(dir, 'c'), 'utf8')
    const der = new X509Certificate(pem).raw
    const hex = createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':')
    expect(certFingerprint(`junk\n${pem}`, 'x')).toBe(hex)
    expect(() => certFingerprint('nothing', 'secret a/b')).toThrow(/secret a\/b holds no PEM certificate/)
  })
})
