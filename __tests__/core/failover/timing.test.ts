import { analyzeFault, analyzeRestore, sharesOverTime, type Probe, type ProbeKind } from '../../../src/core/failover/timing.ts'

// A probe every 100 ms from t = 1000; `s` is a string with one letter per probe:
// e = eastus, w = westeurope, x = 503, r = connection refused.
function log(s: string, start = 1000): Probe[] {
  return [...s].map((c, i) => {
    const kind: ProbeKind = c === 'x' ? 'http-5xx' : c === 'r' ? 'refused' : 'ok'
    return { seq: i, t: start + i * 100, ms: 5, kind, region: c === 'e' ? 'eastus' : c === 'w' ? 'westeurope' : undefined, phase: 'fault' }
  })
}

describe('analyzeFault', () => {
  test('failover after the last failed-region response and the errors before it', () => {
    //          0123456789012345678
    const ps = log('eeweexxrwxwwwwwwwww')
    const t = analyzeFault(ps, 1000, 'eastus', 5)
    expect(t.lastFailedMs).toBe(400)
    expect(t.failoverMs).toBe(1000) // index 10: the run after the last error
    expect(t.stableMs).toBe(1405) // index 14 + 5 ms latency
    expect(t.errors).toEqual({ 'http-5xx': 3, refused: 1 })
    expect(t.errorsTotal).toBe(4)
    expect(t.afterFailover).toEqual({ probes: 9, survivors: 9, failedRegion: 0, errors: 0 })
  })
  test('a run of survivors before the failed region answers again is not the failover', () => {
    const t = analyzeFault(log('wwwwwwewwww'), 1000, 'eastus', 3)
    expect(t.failoverMs).toBe(700)
  })
  test('no failover when the run never reaches k; probes before the fault are ignored', () => {
    const t = analyzeFault(log('eeewwxww'), 1300, 'eastus', 3)
    expect(t.lastFailedAt).toBeUndefined()
    expect(t.failoverAt).toBeUndefined()
    expect(t.errorsTotal).toBe(1)
    expect(t.probes).toBe(5)
  })
})

describe('analyzeRestore and shares', () => {
  test('restore time is the first response from the region after the restore', () => {
    const r = analyzeRestore(log('wwwwxwwe'), 1100, 'eastus')
    expect(r.restoreMs).toBe(600)
    expect(r.errors).toEqual({ 'http-5xx': 1 })
    expect(analyzeRestore(log('www'), 1000, 'eastus').restoreMs).toBeUndefined()
  })
  test('shares per bucket', () => {
    const b = sharesOverTime(log('eeewxwww'), ['eastus', 'westeurope'], 400, 1000)
    expect(b).toHaveLength(2)
    expect(b[0]).toEqual({ at: 0, n: 4, shares: { eastus: 0.75, westeurope: 0.25 }, errors: 0 })
    expect(b[1].errors).toBe(1)
    expect(b[1].shares.westeurope).toBe(0.75)
  })
})
