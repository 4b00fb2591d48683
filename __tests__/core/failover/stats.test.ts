import {
  binomCdf,
  binomPmf,
  binomSf,
  binomTestTwoSided,
  chiSquareCdf,
  chiSquareGof,
  chiSquareQuantile,
  clopperPearson,
  defaultAlternatives,
  exactPower,
  fixedDecision,
  lnGamma,
  noncentralChiSquareCdf,
  normalQuantile,
  requiredNChiSquare,
  requiredNExact,
  requiredNFixed,
  SplitSprt,
  wilson
} from '../../../src/core/failover/stats.ts'
import { seededRandom, weightedPick } from '../../../src/core/failover/random.ts'

const close = (a: number, b: number, tol: number): void => expect(Math.abs(a - b)).toBeLessThan(tol)

describe('special functions', () => {
  test('lnGamma and the binomial distribution', () => {
    close(lnGamma(10), Math.log(362880), 1e-12)
    close(lnGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-12)
    expect(binomPmf(3, 10, 0.5)).toBeCloseTo(120 / 1024, 14)
    close(binomCdf(3, 10, 0.5) + binomSf(4, 10, 0.5), 1, 1e-12)
    expect(binomPmf(0, 5, 0)).toBe(1)
    expect(binomPmf(5, 5, 1)).toBe(1)
  })
  test('normal and chi-square quantiles match the tables', () => {
    close(normalQuantile(0.975), 1.959963984540054, 1e-6)
    close(normalQuantile(0.01), -2.326347874040841, 1e-6)
    close(chiSquareQuantile(0.95, 1), 3.841458820694124, 1e-6)
    close(chiSquareCdf(11.0705, 5), 0.95, 1e-5)
    close(chiSquareCdf(9.21034, 2), 0.99, 1e-6)
  })
  test('noncentral chi-square: (1.96 + 0.8416)^2 gives power 0.8 for df 1', () => {
    close(1 - noncentralChiSquareCdf(3.841459, 1, 7.849), 0.8, 1e-3)
  })
})

describe('fixed-N tests (values from R)', () => {
  test('exact binomial: binom.test(682, 925, p = 0.75)', () => {
    close(binomTestTwoSided(682, 925, 0.75), 0.3825, 1e-4)
    const ci = clopperPearson(682, 925, 0.05)
    close(ci.lower, 0.7076683, 1e-6)
    close(ci.upper, 0.7654066, 1e-6)
    close(binomTestTwoSided(3, 20, 0.5), 0.002576828, 1e-8)
  })
  test('Clopper-Pearson edges and Wilson', () => {
    expect(clopperPearson(0, 100, 0.05).lower).toBe(0)
    // "0 of N reached the failed region" bounds leakage at ~3/N (95%, one-sided rule of three).
    close(clopperPearson(0, 100, 0.1).upper, 3 / 100, 0.001)
    expect(clopperPearson(100, 100, 0.05).upper).toBe(1)
    const w = wilson(10, 100, 0.05)
    close(w.lower, 0.05523, 1e-4)
    close(w.upper, 0.17437, 1e-4)
  })
  test('chi-square goodness of fit: R chisq.test example', () => {
    const r = chiSquareGof([89, 37, 30, 28, 2], [0.4, 0.2, 0.2, 0.19, 0.01])
    close(r.statistic, 5.7947, 1e-4)
    expect(r.df).toBe(4)
    close(r.pValue, 0.215, 1e-3)
    expect(chiSquareGof([5, 1], [1, 0]).pValue).toBe(0)
  })
  test('required N for 10% vs 20% (anchors: 94 and 301)', () => {
    expect(requiredNExact(0.1, 0.2, 0.05, 0.8)).toBe(94)
    expect(requiredNExact(0.1, 0.2, 0.01, 0.99)).toBe(301)
    expect(exactPower(301, 0.1, 0.2, 0.005)).toBeGreaterThanOrEqual(0.99)
    expect(exactPower(300, 0.1, 0.2, 0.005)).toBeLessThan(0.99)
    // One-sided needs fewer; "stable" (every larger N has the power) more.
    expect(requiredNExact(0.1, 0.2, 0.01, 0.99, { sided: 'one' })).toBeLessThan(301)
    expect(requiredNExact(0.1, 0.2, 0.01, 0.99, { rule: 'stable' })).toBeGreaterThan(301)
    expect(() => requiredNExact(0.1, 0.1, 0.05, 0.8)).toThrow(RangeError)
  })
  test('required N for chi-square grows with the power asked for', () => {
    const a = requiredNChiSquare([0.5, 0.3, 0.2], [0.4, 0.3, 0.3], 0.05, 0.8)
    const b = requiredNChiSquare([0.5, 0.3, 0.2], [0.4, 0.3, 0.3], 0.01, 0.99)
    expect(a).toBeGreaterThan(100)
    expect(b).toBeGreaterThan(a)
    // lambda = N * 0.07; df 2 at alpha 0.05 / power 0.8 needs lambda 9.64 (Cohen) -> N ~138
    close(a, 9.64 / 0.07, 2)
  })
  test('fixedDecision: two regions use the exact test, more use chi-square', () => {
    const exp = { a: 0.9, b: 0.1 }
    const alts = defaultAlternatives(exp)
    const o = { alpha: 0.01, beta: 0.01 }
    expect(requiredNFixed(exp, alts, o)).toBe(301)
    expect(fixedDecision({ a: 270, b: 31 }, exp, alts, o).decision).toBe('pass')
    expect(fixedDecision({ a: 240, b: 61 }, exp, alts, o).decision).toBe('fail')
    expect(fixedDecision({ a: 90, b: 10 }, exp, alts, o).decision).toBe('inconclusive')
    const three = { a: 0.5, b: 0.3, c: 0.2 }
    const r = fixedDecision({ a: 500, b: 300, c: 200 }, three, defaultAlternatives(three), o)
    expect(r.test).toBe('chi-square')
    expect(r.decision).toBe('pass')
    expect(fixedDecision({ a: 400, b: 300, c: 300 }, three, defaultAlternatives(three), o).decision).toBe('fail')
  })
})

describe('SplitSprt', () => {
  const o = { alpha: 0.01, beta: 0.01 }
  test('default alternatives: minor shares doubled; 50/50 against three quarters', () => {
    expect(defaultAlternatives({ a: 0.9, b: 0.1 })).toEqual([{ region: 'b', share: 0.2 }])
    expect(defaultAlternatives({ a: 0.5, b: 0.3, c: 0.2 })).toEqual([
      { region: 'b', share: 0.6 },
      { region: 'c', share: 0.4 }
    ])
    expect(defaultAlternatives({ a: 0.5, b: 0.5 })).toEqual([
      { region: 'a', share: 0.75 },
      { region: 'b', share: 0.75 }
    ])
  })
  test("Wald's bounds: all-major accepts at 40, all-minor rejects at 7", () => {
    const exp = { a: 0.9, b: 0.1 }
    const t = new SplitSprt(exp, defaultAlternatives(exp), o)
    while (t.observe('a') === 'continue');
    // ln(0.01/0.99) / ln(0.8/0.9) = 39.01 -> the 40th response decides
    expect(t.n).toBe(40)
    expect(t.decision).toBe('pass')
    const u = new SplitSprt(exp, defaultAlternatives(exp), o)
    while (u.observe('b') === 'continue');
    // ln(0.99/0.01) / ln 2 = 6.63 -> the 7th
    expect(u.n).toBe(7)
    expect(u.decision).toBe('fail')
  })
  test('a drained region (share 0) is tested against a 5% leak: ~90 clean responses pass, one from it fails', () => {
    const drained = { a: 1, b: 0 }
    expect(defaultAlternatives(drained)).toEqual([{ region: 'b', share: 0.05 }])
    const t = new SplitSprt(drained, defaultAlternatives(drained), o)
    expect(t.decision).toBe('continue')
    while (t.observe('a') === 'continue');
    // Wald: ln(0.01/0.99) / ln(0.95) = 89.6 -> the 90th response decides
    expect([t.n, t.decision]).toEqual([90, 'pass'])
    const u = new SplitSprt(drained, defaultAlternatives(drained), o)
    for (let i = 0; i < 50; i++) u.observe('a')
    expect(u.observe('b')).toBe('fail')
    expect(u.reason).toMatch(/from b, whose expected share is 0/)
    // fixed N: (1 - 0.05)^N <= beta -> 90; a drained split has no share test beyond that
    expect(requiredNFixed(drained, defaultAlternatives(drained), o)).toBe(90)
    expect(fixedDecision({ a: 90, b: 0 }, drained, defaultAlternatives(drained), o)).toMatchObject({ decision: 'pass', test: 'none' })
    expect(fixedDecision({ a: 89, b: 0 }, drained, defaultAlternatives(drained), o)).toMatchObject({ decision: 'inconclusive' })
    expect(fixedDecision({ a: 89, b: 1 }, drained, defaultAlternatives(drained), o)).toMatchObject({ decision: 'fail' })
  })
  test('a response from a zero-share region fails at once', () => {
    const exp = { a: 0.9, b: 0.1, c: 0 }
    const u = new SplitSprt(exp, defaultAlternatives(exp), o)
    u.observe('a')
    expect(u.observe('c')).toBe('fail')
  })
  test('error rates over seeded runs stay near alpha and beta', () => {
    const exp = { a: 0.9, b: 0.1 }
    const rand = seededRandom(7)
    const run = (truth: Record<'a' | 'b', number>): SplitSprt => {
      const t = new SplitSprt(exp, defaultAlternatives(exp), o)
      while (t.observe(weightedPick(truth, rand)!) === 'continue' && t.n < 5000);
      return t
    }
    let falseFail = 0
    let falsePass = 0
    let nH0 = 0
    const runs = 400
    for (let i = 0; i < runs; i++) {
      const h0 = run({ a: 0.9, b: 0.1 })
      nH0 += h0.n
      if (h0.decision !== 'pass') falseFail++
      if (run({ a: 0.8, b: 0.2 }).decision !== 'fail') falsePass++
    }
    expect(falseFail / runs).toBeLessThan(0.03)
    expect(falsePass / runs).toBeLessThan(0.03)
    // Wald's approximation of the mean sample number under H0 is ~123.
    expect(nH0 / runs).toBeGreaterThan(90)
    expect(nH0 / runs).toBeLessThan(160)
  })
  test('weightedPick follows the weights', () => {
    const rand = seededRandom(1)
    let b = 0
    for (let i = 0; i < 10000; i++) if (weightedPick({ a: 9, b: 1 }, rand) === 'b') b++
    expect(b).toBeGreaterThan(900)
    expect(b).toBeLessThan(1100)
    expect(weightedPick({ a: 0 }, rand)).toBeUndefined()
  })
})
