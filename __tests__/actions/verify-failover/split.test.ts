// verify-failover's split check and input validation, driven through the BUNDLE by the runner
// double against the sandbox's Envoy ingress gateway (Istio DestinationRule distribute weights).
import { defaultAlternatives, requiredNFixed } from '../../../src/core/failover/stats.ts'
import { runAction, startStep } from '../../../sandbox/runner.ts'
import { readReport, requireBundle, startDrill, writeTopology, type Drill } from './world.ts'

beforeAll(() => requireBundle())

describe('verify-failover split check', () => {
  let drill: Drill
  afterEach(async () => drill?.close())

  test('a correct 90/10 split passes, with N, shares and bounds in the verdict', async () => {
    drill = await startDrill({ regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 2 } } })
    const step = await runAction('verify-failover', { weights: 'eastus=90, westeurope=10', 'ingress-url': `${drill.world.url}/hello`, classify: drill.classify, 'probe-interval': '1ms' }, { env: drill.env })
    expect(step.stderr).toBe('')
    expect(step.code).toBe(0)
    expect(step.outputs.verdict).toBe('pass')
    expect(step.outputs['split-verdict']).toBe('pass')
    const n = Number(step.outputs['split-n'])
    // The sequential test decides well before the fixed-N test's 301.
    expect(n).toBeGreaterThan(30)
    expect(n).toBeLessThan(301)
    const shares = JSON.parse(step.outputs['split-shares'])
    expect(shares.eastus + shares.westeurope).toBeCloseTo(1, 6)
    expect(step.summary).toMatch(/Split check: PASS \(N = \d+, SPRT/)
    expect(step.summary).toMatch(/99\.0% Clopper-Pearson/)
    expect(step.summary).toContain('xychart-beta')
    expect(await drill.world.requests()).toBe(n)
    expect(step.post?.code).toBe(0)
  })

  test('an ingress actually at 80/20 fails a 90/10 expectation', async () => {
    drill = await startDrill({ regions: { eastus: { weight: 80, replicas: 1 }, westeurope: { weight: 20, replicas: 1 } } })
    const step = await runAction('verify-failover', { weights: 'eastus=90, westeurope=10', 'ingress-url': drill.world.url, classify: drill.classify, 'probe-interval': '1ms' }, { env: drill.env })
    expect(step.code).toBe(1)
    expect(step.outputs['split-verdict']).toBe('fail')
    expect(step.outputs.verdict).toBe('fail')
    expect(step.stdout).toMatch(/westeurope: the evidence favours a share of 20\.0% over the expected 10\.0%/)
    expect(Number(step.outputs['split-n'])).toBeLessThan(301)
  })

  test('a region not drained: Envoy still sends it 10%, so the drained split eastus=100, westeurope=0 fails', async () => {
    // decommission-region's drain stage relies on this: "drained" is measured, and one response
    // from the region is enough to fail it (P(90 clean responses at a 10% leak) < 1e-4)
    drill = await startDrill({ regions: { eastus: { weight: 90, replicas: 1 }, westeurope: { weight: 10, replicas: 1 } } })
    const step = await runAction('verify-failover', { weights: 'eastus=100, westeurope=0', 'ingress-url': drill.world.url, classify: drill.classify, 'probe-interval': '1ms' }, { env: drill.env })
    expect(step.code).toBe(1)
    expect({ split: step.outputs['split-verdict'], verdict: step.outputs.verdict }).toEqual({ split: 'fail', verdict: 'fail' })
    expect(step.stdout).toMatch(/a response came from westeurope, whose expected share is 0/)
    // the world agrees: Envoy answered every probe, and westeurope's replica served some of them
    expect(await drill.world.requests()).toBe(Number(step.outputs['split-n']))
    expect(drill.world.replicas.get('westeurope')!.reduce((n, r) => n + r.served, 0)).toBeGreaterThan(0)
  })

  test('three regions 50/30/20 pass (json, body and header rules); a fixed-N run uses chi-square at its N', async () => {
    drill = await startDrill({ regions: { eastus: { weight: 50, replicas: 1 }, westeurope: { weight: 30, replicas: 1 }, northeurope: { weight: 20, replicas: 1 } } })
    const classify = ['eastus json region=eastus', 'westeurope body "region":"westeurope"', 'northeurope header x-region: ^northeurope$'].join('\n')
    const step = await runAction('verify-failover', { weights: 'eastus=50, westeurope=30, northeurope=20', 'ingress-url': drill.world.url, classify, 'probe-interval': '1ms' }, { env: drill.env })
    expect(step.code).toBe(0)
    expect(step.outputs['split-verdict']).toBe('pass')
    const fixed = await runAction(
      'verify-failover',
      { weights: 'eastus=0.5, westeurope=0.3, northeurope=0.2', 'ingress-url': drill.world.url, classify, 'probe-interval': '1ms', 'split-test': 'fixed', alpha: '0.05', beta: '0.2' },
      { env: drill.env }
    )
    expect(fixed.code).toBe(0)
    const r = readReport(fixed)
    const split = r.data.split as { method: string; n: number }
    expect(split.method).toBe('chi-square')
    expect(Number(fixed.outputs['split-n'])).toBe(split.n)
    const expected = { eastus: 0.5, westeurope: 0.3, northeurope: 0.2 }
    expect(split.n).toBe(requiredNFixed(expected, defaultAlternatives(expected), { alpha: 0.05, beta: 0.2 }))
  })
})

describe('verify-failover refuses bad inputs before any change', () => {
  let drill: Drill
  beforeAll(async () => {
    drill = await startDrill({ regions: { eastus: { weight: 90, replicas: 2 }, westeurope: { weight: 10, replicas: 1 } } })
  })
  afterAll(async () => drill?.close())

  const base = (): Record<string, string> => ({
    weights: 'eastus=90, westeurope=10',
    'ingress-url': drill.world.url,
    classify: drill.classify,
    'fault-mode': 'scale-to-zero',
    'fault-region': 'eastus',
    'kube-context': 'aks-eastus',
    deployment: 'helloworld',
    namespace: 'apigee',
    'fault-duration': '2s',
    'probe-interval': '20ms'
  })
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['weights not summing', { weights: 'eastus=90, westeurope=20' }, /input 'weights': weights sum to 110, not 100/],
    ['a negative weight', { weights: 'eastus=110, westeurope=-10' }, /weight of westeurope is not a non-negative number/],
    ['one region only', { weights: 'eastus=100' }, /at least two regions/],
    ['unknown fault region', { 'fault-region': 'southindia' }, /input 'fault-region': region 'southindia' is not in weights/],
    ['classify names an unknown region', { classify: 'eastus body a\nwesteurope body b\nmars body c' }, /input 'classify': region 'mars' is not in weights/],
    ['a bad body regex', { classify: 'eastus body (unclosed\nwesteurope body x' }, /rule for eastus 'body \(unclosed': not a valid regular expression/],
    ['a bad header rule', { classify: 'eastus header x-region\nwesteurope body x' }, /a header rule is 'name: regex'/],
    ['a bad duration', { 'fault-duration': '5 minutes' }, /input 'fault-duration': not a duration \(got '5 minutes'\)/],
    ['a bad probe interval', { 'probe-interval': '-1s' }, /input 'probe-interval': not a duration/],
    ['alpha out of range', { alpha: '1.5' }, /input 'alpha': out of range/],
    ['an unknown fault mode', { 'fault-mode': 'chaos' }, /input 'fault-mode': not one of the choices/],
    ['command mode without restore-command', { 'fault-mode': 'command', 'fault-command': 'true' }, /input 'restore-command': is required with fault-mode command/],
    ['fixed N above max-requests', { 'split-test': 'fixed', 'max-requests': '100' }, /input 'max-requests': 100 is below the 301 requests/],
    ['fault too short for K', { 'fault-duration': '100ms', consecutive: '10' }, /input 'fault-duration': 100ms is too short to see 10 consecutive/],
    ['a deployment that does not exist', { deployment: 'nosuch' }, /deployment nosuch not found in namespace apigee/]
  ]
  // typos in weights, with the ingress from the topology: one error, naming weights (not also a
  // false "ingress-url is required" because the regions could not be read)
  const typos: Array<[string, Record<string, string>, RegExp]> = [
    ['a weights typo (9/1 for 90/10), ingress from the topology', { weights: 'eastus=9, westeurope=1' }, /input 'weights': weights sum to 10, not 100/],
    ['weights with percent signs, ingress from the topology', { weights: 'eastus=90%, westeurope=10%' }, /input 'weights': .*eastus/]
  ]
  cases.push(...typos.map(([name, change, message]): [string, Record<string, string>, RegExp] => [name, { ...change, 'ingress-url': '', topology: '@topology' }, message]))

  test.each(cases)('%s', async (_name, change, message) => {
    const inputs = { ...base(), ...change }
    if (inputs.topology === '@topology') inputs.topology = writeTopology(drill)
    const before = await drill.world.requests()
    const main = await startStep('verify-failover', 'main', inputs, { env: drill.env }).done
    expect(main.code).toBe(1)
    expect(main.stdout).toMatch(message)
    // one error per mistake
    expect(main.stdout.match(/^::error/gm)).toHaveLength(1)
    expect(main.stdout.match(/fix: /g)).toHaveLength(1)
    // Nothing probed, nothing changed.
    expect(await drill.world.requests()).toBe(before)
    expect(drill.replicas('eastus')).toEqual({ spec: 2, annotation: undefined, running: 2 })
    expect(main.state.fault).toBeUndefined()
  })
})
