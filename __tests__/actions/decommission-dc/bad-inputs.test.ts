// Bad inputs of decommission-dc, through the bundle: each fails naming the input, the value and
// the fix, before any kubectl command runs (so nothing can have changed). No sandbox needed.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { recordingKubectl } from '../../helpers/recording-kubectl.ts'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAction } from '../../../sandbox/runner.ts'
import { ensureBundle } from '../../helpers/bundle.ts'

const dir = mkdtempSync(join(tmpdir(), 'mr-decom-inputs-'))
const topo = join(dir, 'topology.yml')
writeFileSync(topo, `cassandra: { namespace: apigee }\nregions:\n  eastus: { kube: { context: aks-east }, cassandra: { datacenter: dc-1 } }\n  westeurope: { kube: { context: aks-west }, cassandra: { datacenter: dc-2 } }\n`)
const { env, calls } = recordingKubectl(dir)
const dcs = { 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-2' }

beforeAll(() => ensureBundle('decommission-dc'), 600_000)

const cases: [string, Record<string, string>, RegExp][] = [
  ['same datacenter twice', { 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-1' }, /source and target datacenter are both 'dc-1'\n\s+fix: target-datacenter is the datacenter to retire/],
  ['unknown method', { ...dcs, method: 'drop' }, /input 'method': not one of the choices \(got 'drop'\)/],
  ['uninstall without a command', { ...dcs, method: 'uninstall' }, /input 'method' is 'uninstall' but 'uninstall-command' is empty/],
  ['a command without method uninstall', { ...dcs, 'uninstall-command': 'helm uninstall x' }, /input 'uninstall-command' is set but 'method' is 'decommission'/],
  ['password without user', { ...dcs, 'jmx-password': 'xyz-secret-1' }, /input 'jmx-password' is set but 'jmx-user' is not/],
  ['lease shorter than its renewal can keep', { ...dcs, 'lease-duration': '2s' }, /input 'lease-duration'/],
  ['unknown region', { topology: topo, 'source-region': 'eastus', 'target-region': 'mars' }, /input 'target-region': region 'mars' is not in topology/]
]

describe('decommission-dc bad inputs', () => {
  it.each(cases)('%s', async (_name, inputs, re) => {
    const r = await runAction('decommission-dc', inputs, { env, cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stdout.replace(/%0A/g, '\n')).toMatch(re)
    expect(existsSync(calls)).toBe(false)
    expect(r.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')).not.toContain('xyz-secret-1')
  })
})
