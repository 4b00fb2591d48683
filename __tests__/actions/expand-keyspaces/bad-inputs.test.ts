// Bad inputs of both actions, through the bundles: each fails naming the input, the value and
// the fix, before any kubectl command runs (so nothing can have changed). No sandbox needed.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAction } from '../../../sandbox/runner.ts'
import { ensureBundles, visible } from './harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'mr-bad-inputs-'))
const topo = join(dir, 'topology.yml')
writeFileSync(
  topo,
  `cassandra: { namespace: apigee }
regions:
  eastus: { kube: { context: aks-east }, cassandra: { datacenter: dc-1, overrides: ${join(dir, 'east.yaml')} } }
  westeurope: { kube: { context: aks-west }, cassandra: { datacenter: dc-2, rack: ra-1 } }
`
)
// kubectl that records any call: none may happen
const bin = join(dir, 'bin')
const calls = join(dir, 'calls')
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs'
mkdirSync(bin)
writeFileSync(join(bin, 'kubectl'), `#!/bin/sh\necho "$@" >> ${calls}\nexit 1\n`)
chmodSync(join(bin, 'kubectl'), 0o755)
const env = { PATH: `${bin}:${process.env.PATH}` }

beforeAll(() => ensureBundles(['expand-keyspaces', 'configure-seed-host']), 600_000)

const expandCases: [string, Record<string, string>, RegExp][] = [
  ['unknown mode', { mode: 'grow', 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-2' }, /input 'mode': not one of the choices \(got 'grow'\)\n\s+fix: one of add, remove/],
  ['datacenter that would inject CQL', { 'source-datacenter': 'dc-1', 'target-datacenter': "dc-2'}; DROP KEYSPACE k; --" }, /input 'target-datacenter': 'dc-2'}; DROP KEYSPACE k; --' is not valid\n\s+fix: a Cassandra datacenter name/],
  ['missing target datacenter', { 'source-datacenter': 'dc-1' }, /input 'target-datacenter': is required/],
  ['same source and target', { 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-1' }, /source and target datacenter are both 'dc-1'/],
  ['malformed replication-factors', { 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-2', 'replication-factors': 'a:3' }, /input 'replication-factors': 'a:3' is not keyspace=RF/],
  ['RF out of range', { 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-2', 'replication-factor': '0' }, /input 'replication-factor': out of range 1..20/],
  ['password without user', { 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-2', 'ddl-password': 'xyz-secret-1' }, /input 'ddl-password' is set but 'ddl-user' is not/],
  ['RF in remove mode', { mode: 'remove', 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-2', 'replication-factor': '2' }, /have no meaning in mode 'remove'/],
  ['bad selector', { 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-2', 'pod-selector': 'app in (x' }, /input 'pod-selector'/],
  ['unknown region in the topology', { topology: topo, 'source-region': 'eastus', 'target-region': 'mars' }, /input 'target-region': region 'mars' is not in topology[\s\S]*use one of: eastus, westeurope/],
  ['missing topology file', { topology: join(dir, 'nope.yml'), 'source-region': 'eastus', 'target-region': 'westeurope' }, /topology file '.*nope.yml' does not exist/],
  ['malformed region key', { topology: topo, 'source-region': 'East_US', 'target-region': 'westeurope' }, /input 'source-region': 'East_US' is not valid\n\s+fix: a region key/],
  // a name that 'keyspaces' refuses is refused by 'replication-factors' too, naming that input
  ['replication-factors with a name keyspaces refuses', { 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-2', 'replication-factors': 'cache=3, my-ks=3' }, /input 'replication-factors': 'my-ks=3': 'my-ks' is not a keyspace name\n\s+fix: keyspace=RF items .*letters, digits and _/],
  ['keyspaces refuses the same name', { 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-2', keyspaces: 'cache, my-ks' }, /input 'keyspaces': bad item\(s\) 'my-ks' \(got 'cache, my-ks'\)\n\s+fix: keyspace names: letters, digits and _/],
  ['one keyspace with two RFs', { 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-2', 'replication-factors': 'a=3\nb=1\na=2' }, /input 'replication-factors': 'a' is given twice, RF 3 and 2/],
  ['convert-simple-strategy not a boolean (was silently false)', { 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-2', 'convert-simple-strategy': 'yes' }, /input 'convert-simple-strategy': not a boolean \(got 'yes'\)\n\s+fix: 'true' or 'false'/]
]
// errors as the user reads them: one per mistake (a false second error would show a second fix)
const errors = (stdout: string): string[] => stdout.split('\n').filter((l) => l.startsWith('::error::')).map((l) => decodeURIComponent(l.slice(9).replace(/%0A/g, '\n')))
const fixes = (stdout: string): number => errors(stdout).join('\n').split('\n').filter((l) => /^\s+fix: /.test(l)).length

describe('expand-keyspaces bad inputs', () => {
  it.each(expandCases)('%s', async (_name, inputs, re) => {
    const r = await runAction('expand-keyspaces', inputs, { env, cwd: dir })
    expect(r.code).toBe(1)
    expect(decodeURIComponent(r.stdout.replace(/%0A/g, '\n'))).toMatch(re)
    expect(fixes(r.stdout)).toBe(1)
    expect(existsSync(calls)).toBe(false)
    expect(visible(r.stdout)).not.toContain('xyz-secret-1')
  })
  it('takes datacenters and contexts from the topology', async () => {
    const r = await runAction('expand-keyspaces', { topology: topo, 'source-region': 'eastus', 'target-region': 'westeurope' }, { env, cwd: dir })
    expect(r.stdout).toContain("add 'dc-2' (RF from 'dc-1') on region eastus (context aks-east)")
    expect(r.stdout).toContain('kubectl --context aks-east -n apigee get pods -l app=apigee-cassandra -o json')
    rmSync(calls, { force: true })
  })
})

const seedCases: [string, Record<string, string>, RegExp][] = [
  ['unknown mode', { mode: 'later', 'existing-overrides': 'a.yaml', 'target-overrides': 'b.yaml', 'target-datacenter': 'dc-2' }, /input 'mode': not one of the choices/],
  ['no existing overrides', { 'target-overrides': 'b.yaml', 'target-datacenter': 'dc-2' }, /input 'existing-overrides' is required/],
  ['no target overrides', { 'existing-overrides': 'a.yaml', 'target-datacenter': 'dc-2' }, /input 'target-overrides': is required/],
  ['bad rack', { 'existing-overrides': 'a.yaml', 'target-overrides': 'b.yaml', 'target-datacenter': 'dc-2', 'target-rack': 'ra 1' }, /input 'target-rack': 'ra 1' is not valid/],
  ['seed-count out of range', { 'existing-overrides': 'a.yaml', 'target-overrides': 'b.yaml', 'target-datacenter': 'dc-2', 'seed-count': '0' }, /input 'seed-count': out of range 1..10/],
  ['existing overrides file missing', { 'existing-overrides': join(dir, 'missing.yaml'), 'target-overrides': join(dir, 'b.yaml'), 'target-datacenter': 'dc-2' }, /existing overrides file '.*missing.yaml' does not exist/],
  ['finalize without a file', { mode: 'finalize', 'target-overrides': join(dir, 'none.yaml') }, /target overrides file '.*none.yaml' does not exist/],
  ['missing topology file', { topology: join(dir, 'nope.yml'), 'source-region': 'eastus', 'target-region': 'westeurope' }, /topology file '.*nope.yml' does not exist/],
  ['unknown region in the topology', { topology: topo, 'source-region': 'eastus', 'target-region': 'mars' }, /input 'target-region': region 'mars' is not in topology[\s\S]*use one of: eastus, westeurope/]
]

describe('configure-seed-host bad inputs', () => {
  it.each(seedCases)('%s', async (_name, inputs, re) => {
    const r = await runAction('configure-seed-host', inputs, { env, cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stdout.replace(/%0A/g, '\n')).toMatch(re)
    expect(fixes(r.stdout)).toBe(1)
    expect(existsSync(calls)).toBe(false)
  })
})
