// Bad inputs of rebuild-dc through the bundle: each fails with one error naming the input, the
// value and the fix, before any kubectl command runs (so nothing can have changed). No sandbox.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAction } from '../../../sandbox/runner.ts'
import { ensureBundle } from '../../helpers/bundle.ts'

const dir = mkdtempSync(join(tmpdir(), 'mr-rebuild-bad-'))
const topo = join(dir, 'topology.yml')
writeFileSync(
  topo,
  `regions:
  eastus: { kube: { context: aks-east }, cassandra: { datacenter: dc-1 } }
  westeurope: { kube: { context: aks-west }, cassandra: { datacenter: dc-2 } }
`
)
// a kubectl that records any call: none may happen
const bin = join(dir, 'bin')
const calls = join(dir, 'calls')
mkdirSync(bin)
writeFileSync(join(bin, 'kubectl'), `#!/bin/sh\necho "$@" >> ${calls}\nexit 1\n`)
chmodSync(join(bin, 'kubectl'), 0o755)
const env = { PATH: `${bin}:${process.env.PATH}` }

beforeAll(() => ensureBundle('rebuild-dc'), 600_000)

const dcs = { 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-2' }
const regions = { topology: topo, 'source-region': 'eastus', 'target-region': 'westeurope' }
const cases: [string, Record<string, string>, RegExp][] = [
  ['keyspace name with a dash', { ...dcs, keyspaces: 'cache_a, my-ks' }, /input 'keyspaces': bad item\(s\) 'my-ks' \(got 'cache_a, my-ks'\)\n\s+fix: keyspace names: letters, digits and _/],
  ['missing topology file', { ...regions, topology: join(dir, 'nope.yml') }, /topology file '.*nope.yml' does not exist\n\s+fix: set input 'topology'/],
  ['unknown region', { ...regions, 'source-region': 'mars' }, /input 'source-region': region 'mars' is not in topology[\s\S]*fix: use one of: eastus, westeurope/],
  ['malformed region', { ...regions, 'target-region': 'West Europe' }, /input 'target-region': 'West Europe' is not valid\n\s+fix: a region key/],
  ['bad source context beside a kubeconfig', { ...dcs, 'source-context': 'a b', 'source-kubeconfig': join(dir, 'kc') }, /input 'source-context': 'a b' is not valid\n\s+fix: a kubeconfig context name/],
  ['same datacenters', { 'source-datacenter': 'dc-1', 'target-datacenter': 'dc-1' }, /source and target datacenter are both 'dc-1'/],
  ['unknown method', { ...dcs, method: 'operator' }, /input 'method': not one of the choices \(got 'operator'\)\n\s+fix: one of nodetool, crd/],
  ['timeout malformed', { ...dcs, timeout: '6 hours' }, /input 'timeout': not a duration \(got '6 hours'\)/],
  ['spot check over its key bound', { ...dcs, 'spot-check-keys': '5000' }, /input 'spot-check-keys': out of range 1..2000 \(got '5000'\)\n\s+fix: a whole number in 1..2000/],
  ['spot check rate not a number', { ...dcs, 'spot-check-rate': 'fast' }, /input 'spot-check-rate': not a whole number \(got 'fast'\)/]
]

const errorLines = (stdout: string): string =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('::error::'))
    .map((l) => l.slice(9).replace(/%0A/g, '\n').replace(/%25/g, '%'))
    .join('\n')

describe('rebuild-dc bad inputs', () => {
  it.each(cases)('%s', async (_name, inputs, re) => {
    const r = await runAction('rebuild-dc', inputs, { env, cwd: dir })
    expect(r.code).toBe(1)
    const err = errorLines(r.stdout)
    expect(err).toMatch(re)
    // one mistake, one error: no false 'is required' for what the topology would have filled
    expect(err.split('\n').filter((l) => /^\s*fix: /.test(l))).toHaveLength(1)
    expect(existsSync(calls)).toBe(false)
  })
})
