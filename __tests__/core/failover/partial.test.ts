// Partial failure: Envoy's locality weighting as the prediction, and the split test's verdict on
// simulated responses drawn from the prediction and from the two ways it would be wrong.
import { localityShares, measurePartial, predictPartial } from '../../../src/core/failover/partial.ts'
import { seededRandom, weightedPick } from '../../../src/core/failover/random.ts'
import type { Probe } from '../../../src/core/failover/timing.ts'

const o = { alpha: 0.01, beta: 0.01 }
const half = predictPartial({ regions: ['eastus', 'westeurope'], region: 'eastus', ready: 2, failing: 1, weights: { eastus: 50, westeurope: 50 }, weightsFrom: 'DestinationRule apigee/helloworld' })

/** n probes every 20 ms from t = 0, served by a region drawn from `truth`, with `errors` of them failed. */
function probes(truth: Record<string, number>, n: number, seed: number, errorShare = 0): Probe[] {
  const rand = seededRandom(seed)
  return Array.from({ length: n }, (_, i) => {
    const t = i * 20
    if (rand() < errorShare) return { seq: i, t, ms: 1, kind: 'reset', phase: 'fault' } as Probe
    return { seq: i, t, ms: 1, kind: 'ok', region: weightedPick(truth, rand)!, phase: 'fault' }
  })
}

describe('partial failure', () => {
  test("Envoy's rule: weight x min(1, 1.4 x healthy fraction), normalised", () => {
    // 50/50, 1 of 2 eastus pods ejected: 35 / (35 + 50)
    expect(half.predicted.eastus).toBeCloseTo(35 / 85, 10)
    expect(half.healthy).toEqual({ eastus: 0.5, westeurope: 1 })
    expect(half.configured).toEqual({ eastus: 0.5, westeurope: 0.5 })
    // without overprovisioning: 25 / 75
    expect(half.noSpill.eastus).toBeCloseTo(1 / 3, 10)
    expect(half.alternatives).toEqual([
      { region: 'eastus', share: 0.5 },
      { region: 'eastus', share: expect.closeTo(1 / 3, 10) }
    ])
    // 1 of 4 failing: 75% healthy x 1.4 > 1, Envoy moves nothing; only the no-spill model differs
    const quarter = predictPartial({ regions: ['eastus', 'westeurope'], region: 'eastus', ready: 4, failing: 1, weights: { eastus: 90, westeurope: 10 }, weightsFrom: '-' })
    expect(quarter.predicted.eastus).toBeCloseTo(0.9, 10)
    expect(quarter.alternatives).toEqual([{ region: 'eastus', share: expect.closeTo(67.5 / 77.5, 10) }])
    // three localities: the others keep their proportions
    expect(localityShares({ a: 60, b: 30, c: 10 }, { a: 1 / 3 })).toEqual({ a: expect.closeTo(28 / 68, 10), b: expect.closeTo(30 / 68, 10), c: expect.closeTo(10 / 68, 10) })
    expect(() => localityShares({ a: 50, b: 0 }, { a: 0 })).toThrow(/no locality/)
  })

  test('the split test passes responses drawn from the prediction and fails those of an unchanged split or of no spill', () => {
    const decide = (truth: Record<string, number>, seed: number): string => measurePartial(probes(truth, 1500, seed), 0, half, o).verdict.decision
    const seeds = [1, 2, 3, 4, 5, 6, 7, 8]
    expect(seeds.map((s) => decide(half.predicted, s))).toEqual(seeds.map(() => 'pass'))
    expect(seeds.map((s) => decide({ eastus: 0.5, westeurope: 0.5 }, s))).toEqual(seeds.map(() => 'fail'))
    expect(seeds.map((s) => decide({ eastus: 1 / 3, westeurope: 2 / 3 }, s))).toEqual(seeds.map(() => 'fail'))
  })

  test('the window starts after the transition; errors in it are counted, not classified', () => {
    const ps = probes(half.predicted, 1000, 9, 0.05)
    const r = measurePartial(ps, 5000, half, o)
    const inWindow = ps.filter((p) => p.t >= 5000)
    expect(r.n + r.errorsTotal).toBe(inWindow.length)
    expect(r.errors.reset).toBe(inWindow.filter((p) => p.kind === 'reset').length)
    expect(r.from).toBe(5000)
    expect(r.to).toBe(inWindow[inWindow.length - 1].t)
    expect(measurePartial([], 0, half, o).verdict).toMatchObject({ decision: 'fail', reason: 'no classified response while the fault held' })
  })
})
