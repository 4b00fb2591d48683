// Every input of every action, given a malformed value in turn, through the bundles. One mistake,
// one error: the errors may name only that input (never a false second error about another one,
// as a typo in verify-failover's weights once also reported 'ingress-url is required'), carry at
// most one fix, and an error naming it comes before any kubectl call. An input that takes free
// text may accept the value: the run then fails later, on the recording kubectl or the closed
// endpoints below, and names no input at all. No sandbox.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { ROOT, runAction } from '../../sandbox/runner.ts'
import { ensureBundle } from '../helpers/bundle.ts'
import { recordingKubectl } from '../helpers/recording-kubectl.ts'

const dir = mkdtempSync(join(tmpdir(), 'mr-input-sweep-'))
const topo = join(dir, 'topology.yml')
writeFileSync(join(dir, 'east.yaml'), 'instanceID: hybrid-eastus\ncassandra:\n  hostNetwork: true\n')
writeFileSync(
  topo,
  `cassandra: { namespace: apigee }
regions:
  eastus:
    kube: { context: aks-east }
    azure: { subscription: 00000000-0000-0000-0000-000000000001, resourceGroup: rg-east, vnet: vnet-east, nsg: nsg-east }
    cassandra: { datacenter: dc-1, overrides: ${join(dir, 'east.yaml')} }
    service: { deployment: helloworld, namespace: apigee }
    ingress: { url: 'http://127.0.0.1:9/hello', json: 'region=eastus' }
  westeurope:
    kube: { context: aks-west }
    azure: { subscription: 00000000-0000-0000-0000-000000000002, resourceGroup: rg-west, vnet: vnet-west, nsg: nsg-west }
    cassandra: { datacenter: dc-2, rack: ra-1, overrides: ${join(dir, 'west.yaml')} }
    service: { deployment: helloworld, namespace: apigee }
    ingress: { url: 'http://127.0.0.1:9/hello', json: 'region=westeurope' }
`
)
const recording = recordingKubectl(dir)
const calls = recording.calls
const env = { ...recording.env, GITHUB_API_URL: 'http://127.0.0.1:9' }
const regions = { topology: topo, 'source-region': 'eastus', 'target-region': 'westeurope' }

/** A valid request per action that fails later for a reason that is no input's (kubectl, a closed port). */
const BASES: Record<string, Record<string, string>> = {
  preflight: { ...regions },
  'configure-seed-host': { ...regions },
  'expand-keyspaces': { ...regions },
  'rebuild-dc': { ...regions },
  'decommission-dc': { ...regions },
  'verify-failover': { topology: topo, weights: 'eastus=90, westeurope=10', 'probe-interval': '1ms', 'max-requests': '20' },
  // ARM behind a closed port, signed in with a federated identity (the runner's ID-token request goes nowhere)
  'create-vnet-peering': { ...regions, 'client-id': '00000000-0000-0000-0000-00000000000c', 'tenant-id': '00000000-0000-0000-0000-00000000000d', 'azure-endpoint': 'https://127.0.0.1:9', 'azure-authority-host': 'https://127.0.0.1:9' },
  // GitHub's API behind a closed port
  'internal/failover-issue': { result: 'failure', 'github-token': 'ghs_sweep_not_a_real_token' }
}
const JUNK = '%bad value%'

const actionYml = (name: string): string => join(ROOT, name === 'preflight' ? 'action.yml' : `actions/${name}/action.yml`)
const inputsOf = (name: string): string[] => Object.keys((parse(readFileSync(actionYml(name), 'utf8')) as { inputs?: Record<string, unknown> }).inputs ?? {})

const errorLines = (stdout: string): string[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('::error'))
    .map((l) => l.replace(/^::error[^:]*::/, '').replace(/%0A/g, '\n').replace(/%25/g, '%'))

/** The inputs the errors name as the subject ("input 'x': ..."), and the number of fix lines. */
function judge(stdout: string): { named: string[]; fixes: number; errors: string } {
  const errors = errorLines(stdout).join('\n')
  return { named: [...new Set([...errors.matchAll(/input '([a-z0-9-]+)':/g)].map((m) => m[1]))], fixes: (errors.match(/^\s*fix: /gm) ?? []).length, errors }
}

beforeAll(() => Object.keys(BASES).forEach((name) => ensureBundle(name.replace(/^internal\//, ''))), 900_000)

describe('every input, malformed in turn, through the bundles', () => {
  test.each(Object.keys(BASES))('%s', async (name) => {
    const base = BASES[name]
    const first = judge((await runAction(name, base, { env, cwd: dir })).stdout)
    // the base request names no input: what the sweep sees is the junk value's doing
    expect({ base: first.named }).toEqual({ base: [] })
    const defects: string[] = []
    for (const input of inputsOf(name)) {
      rmSync(calls, { force: true })
      const r = await runAction(name, { ...base, [input]: JUNK }, { env, cwd: dir })
      const j = judge(r.stdout)
      const others = j.named.filter((n) => n !== input)
      if (r.code === 0) defects.push(`${input}: the run passed`)
      if (others.length) defects.push(`${input}: the errors also name ${others.join(', ')}:\n${j.errors}`)
      if (j.fixes > 1) defects.push(`${input}: ${j.fixes} fixes for one mistake:\n${j.errors}`)
      if (j.named.includes(input) && existsSync(calls)) defects.push(`${input}: kubectl ran before the error naming it`)
    }
    expect(defects).toEqual([])
  }, 600_000)
})
