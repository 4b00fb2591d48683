// mode forget through the bundle: a retired region's addresses leave the other regions'
// multiRegionSeedHost (comments and other keys kept; the key goes when nothing is left); a re-run
// changes nothing. Files only: no cluster is read (a kubectl that records calls sees none).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { recordingKubectl } from '../../helpers/recording-kubectl.ts'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAction } from '../../../sandbox/runner.ts'
import { ensureBundle } from '../../helpers/bundle.ts'

const dir = mkdtempSync(join(tmpdir(), 'mr-forget-'))
const { env, calls } = recordingKubectl(dir)

beforeAll(() => ensureBundle('configure-seed-host'), 600_000)

test('drops the retired addresses from the regions that stay, then changes nothing', async () => {
  const central = join(dir, 'overrides-centralus.yaml')
  const east = join(dir, 'overrides-eastus.yaml')
  writeFileSync(central, `cassandra:\n  hostNetwork: true\n  # seeds: eastus and the retired westeurope\n  multiRegionSeedHost: 10.1.0.5,10.2.0.4\n  datacenter: dc-3\n`)
  writeFileSync(east, `cassandra:\n  hostNetwork: true\n  multiRegionSeedHost: 10.2.0.4\n  datacenter: dc-1\n`)
  const inputs = { mode: 'forget', 'existing-overrides': `${central},${east}`, 'forget-hosts': '10.2.0.4,10.2.0.5' }
  const r = await runAction('configure-seed-host', inputs, { env, cwd: dir })
  expect(r.code).toBe(0)
  expect(r.outputs.changes).toBe('2')
  expect(r.outputs['changed-overrides'].split('\n')).toEqual([central, east])
  expect(readFileSync(central, 'utf8')).toBe(`cassandra:\n  hostNetwork: true\n  # seeds: eastus and the retired westeurope\n  multiRegionSeedHost: 10.1.0.5\n  datacenter: dc-3\n`)
  expect(readFileSync(east, 'utf8')).not.toContain('multiRegionSeedHost')
  expect(readFileSync(east, 'utf8')).toContain('datacenter: dc-1')
  const again = await runAction('configure-seed-host', inputs, { env, cwd: dir })
  expect(again.code).toBe(0)
  expect(again.outputs.changes).toBe('0')
  expect(again.outputs['changed-overrides']).toBe('')
  expect(again.summary).toContain('nothing to do')
  expect(existsSync(calls)).toBe(false)
})

test('mode forget without forget-hosts fails naming the input', async () => {
  const r = await runAction('configure-seed-host', { mode: 'forget', 'existing-overrides': join(dir, 'x.yaml') }, { env, cwd: dir })
  expect(r.code).toBe(1)
  expect(r.stdout).toContain("input 'forget-hosts' is required in mode 'forget'")
})
