// The statistics behind the split check: exact binomial tests, confidence bounds, chi-square
// goodness of fit, the fixed sample size for a given alpha/power, and Wald's sequential
// probability ratio test (SPRT). Pure functions, no dependencies; numbers checked against known
// values in __tests__/core/failover/stats.test.ts.

// ---------------------------------------------------------------- special functions

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7
]

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7; ~15 significant digits). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x)
  const z = x - 1
  let a = LANCZOS[0]
  const t = z + 7.5
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i)
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a)
}

const lnChoose = (n: number, k: number): number => lnGamma(n + 1) - lnGamma(k + 1) - lnGamma(n - k + 1)

/** P(X = k) for X ~ Binomial(n, p). */
export function binomPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n) return 0
  if (p <= 0) return k === 0 ? 1 : 0
  if (p >= 1) return k === n ? 1 : 0
  return Math.exp(lnChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p))
}

/** P(X <= k). */
export function binomCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0
  if (k >= n) return 1
  let s = 0
  for (let i = 0; i <= k; i++) s += binomPmf(i, n, p)
  return Math.min(1, s)
}

/** P(X >= k). Summed from the upper tail so small tails keep their precision. */
export function binomSf(k: number, n: number, p: number): number {
  if (k <= 0) return 1
  if (k > n) return 0
  let s = 0
  for (let i = k; i <= n; i++) s += binomPmf(i, n, p)
  return Math.min(1, s)
}

/**
 * Regularized lower incomplete gamma P(a, x): series for x < a + 1, continued fraction
 * (modified Lentz) otherwise.
 */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0
  const lnPre = a * Math.log(x) - x - lnGamma(a)
  if (x < a + 1) {
    let term = 1 / a
    let sum = term
    for (let n = 1; n < 10000; n++) {
      term *= x / (a + n)
      sum += term
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break
    }
    return Math.min(1, sum * Math.exp(lnPre))
  }
  const tiny = 1e-300
  let b = x + 1 - a
  let c = 1 / tiny
  let d = 1 / b
  let h = d
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < tiny) d = tiny
    c = b + an / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const del = d * c
    h *= del
    if (Math.abs(del - 1) < 1e-15) break
  }
  return Math.max(0, 1 - Math.exp(lnPre) * h)
}

/** P(X <= x) for a chi-square with `df` degrees of freedom. */
export const chiSquareCdf = (x: number, df: number): number => gammaP(df / 2, x / 2)

/** P(X <= x) for a noncentral chi-square (Poisson mixture of central ones). */
export function noncentralChiSquareCdf(x: number, df: number, lambda: number): number {
  if (lambda <= 0) return chiSquareCdf(x, df)
  const half = lambda / 2
  // Start at the Poisson mode and sum outwards until the weights vanish.
  const mode = Math.floor(half)
  const lnW = (j: number): number => -half + j * Math.log(half) - lnGamma(j + 1)
  let s = 0
  for (let j = mode; j < mode + 10000; j++) {
    const w = Math.exp(lnW(j))
    s += w * chiSquareCdf(x, df + 2 * j)
    if (w < 1e-17 && j > mode + 10) break
  }
  for (let j = mode - 1; j >= 0; j--) {
    const w = Math.exp(lnW(j))
    s += w * chiSquareCdf(x, df + 2 * j)
    if (w < 1e-17) break
  }
  return Math.min(1, s)
}

/** Standard normal quantile (Acklam's rational approximation, refined by one Halley step). */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity
  if (p >= 1) return Infinity
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239]
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
  const lo = 0.02425
  let x: number
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p))
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
  } else if (p <= 1 - lo) {
    const q = p - 0.5
    const r = q * q
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p))
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
  }
  const e = 0.5 * erfc(-x / Math.SQRT2) - p
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2)
  return x - u / (1 + (x * u) / 2)
}

/** Complementary error function (Chebyshev-fitted approximation, relative error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x)
  const t = 1 / (1 + 0.5 * z)
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    )
  return x >= 0 ? r : 2 - r
}

// ---------------------------------------------------------------- fixed-N tests

/** Two-sided exact binomial p-value (the "minimum likelihood" method, as R's binom.test). */
export function binomTestTwoSided(k: number, n: number, p: number): number {
  const d = binomPmf(k, n, p) * (1 + 1e-7)
  let s = 0
  for (let i = 0; i <= n; i++) {
    const v = binomPmf(i, n, p)
    if (v <= d) s += v
  }
  return Math.min(1, s)
}

export interface Interval {
  lower: number
  upper: number
}

/** Solves f(p) = target for f monotone on [0, 1] by bisection. */
function bisect(f: (p: number) => number, target: number, increasing: boolean): number {
  let lo = 0
  let hi = 1
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2
    const v = f(mid)
    if (v < target === increasing) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

/** Clopper-Pearson ("exact") two-sided interval at confidence 1 - alpha. */
export function clopperPearson(k: number, n: number, alpha: number): Interval {
  if (n === 0) return { lower: 0, upper: 1 }
  const lower = k === 0 ? 0 : bisect((p) => binomSf(k, n, p), alpha / 2, true)
  const upper = k === n ? 1 : bisect((p) => binomCdf(k, n, p), alpha / 2, false)
  return { lower, upper }
}

/** Wilson score interval at confidence 1 - alpha. */
export function wilson(k: number, n: number, alpha: number): Interval {
  if (n === 0) return { lower: 0, upper: 1 }
  const z = normalQuantile(1 - alpha / 2)
  const ph = k / n
  const den = 1 + (z * z) / n
  const centre = (ph + (z * z) / (2 * n)) / den
  const half = (z * Math.sqrt((ph * (1 - ph)) / n + (z * z) / (4 * n * n))) / den
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) }
}

export interface ChiSquareResult {
  statistic: number
  df: number
  pValue: number
}

/** Pearson chi-square goodness of fit of counts against expected shares (summing to 1). */
export function chiSquareGof(counts: number[], shares: number[]): ChiSquareResult {
  const n = counts.reduce((a, b) => a + b, 0)
  let stat = 0
  let df = -1
  for (let i = 0; i < counts.length; i++) {
    const e = n * shares[i]
    if (shares[i] === 0) {
      // A zero-share cell: any count there is impossible under H0.
      if (counts[i] > 0) return { statistic: Infinity, df: Math.max(1, counts.length - 1), pValue: 0 }
      continue
    }
    df++
    stat += (counts[i] - e) ** 2 / e
  }
  df = Math.max(1, df)
  return { statistic: stat, df, pValue: n === 0 ? 1 : 1 - chiSquareCdf(stat, df) }
}

/** Smallest critical count c with P(X >= c | n, p0) <= alpha (one-sided upper test). */
export function upperCritical(n: number, p0: number, alpha: number): number {
  let tail = 0
  for (let c = n; c >= 0; c--) {
    tail += binomPmf(c, n, p0)
    if (tail > alpha) return c + 1
  }
  return 0
}

/** Largest critical count c with P(X <= c | n, p0) <= alpha (one-sided lower test); -1 if none. */
export function lowerCritical(n: number, p0: number, alpha: number): number {
  let tail = 0
  for (let c = 0; c <= n; c++) {
    tail += binomPmf(c, n, p0)
    if (tail > alpha) return c - 1
  }
  return n
}

/** Power of the one-sided exact test of p0 against p1 (direction from p1 vs p0) at size alpha. */
export function exactPower(n: number, p0: number, p1: number, alpha: number): number {
  if (p1 > p0) return binomSf(upperCritical(n, p0, alpha), n, p1)
  return binomCdf(lowerCritical(n, p0, alpha), n, p1)
}

/**
 * The fixed N of the exact binomial test of share p0 against the alternative p1 at size alpha and
 * the given power. `two` (the default) is the two-sided equal-tailed test (alpha/2 in each tail;
 * its power against p1 comes from the tail towards p1), `one` the one-sided test at alpha.
 * The exact test's power saw-tooths in N; `first` (the default, the usual table value) is the
 * smallest N that reaches the power, `stable` the smallest N from which every larger N does.
 * 0.1 vs 0.2, two-sided, first: alpha 0.05 / power 0.8 -> 94; alpha 0.01 / power 0.99 -> 301.
 */
export function requiredNExact(
  p0: number,
  p1: number,
  alpha: number,
  power: number,
  o: { sided?: 'one' | 'two'; rule?: 'first' | 'stable'; maxN?: number } = {}
): number {
  const { sided = 'two', rule = 'first', maxN = 100000 } = o
  if (!(p0 > 0 && p0 < 1 && p1 >= 0 && p1 <= 1 && p1 !== p0)) throw new RangeError(`requiredNExact: bad shares ${p0} vs ${p1}`)
  const size = sided === 'two' ? alpha / 2 : alpha
  const za = normalQuantile(1 - size)
  const zb = normalQuantile(power)
  const approx = ((za * Math.sqrt(p0 * (1 - p0)) + zb * Math.sqrt(p1 * (1 - p1))) / (p1 - p0)) ** 2
  // The normal approximation lands near the answer; walk from well below it.
  const window = Math.ceil(3 / Math.min(p0, 1 - p0, 0.5)) + 10
  let first = -1
  for (let n = Math.max(1, Math.floor(approx / 2)); n <= maxN; n++) {
    if (exactPower(n, p0, p1, size) >= power) {
      if (first < 0) first = n
      if (rule === 'first' || n - first >= window) return first
    } else {
      first = -1
    }
  }
  throw new RangeError(`requiredNExact: more than ${maxN} requests needed`)
}

/** Fixed N for the chi-square goodness-of-fit test to detect shares p1 when p0 holds. */
export function requiredNChiSquare(p0: number[], p1: number[], alpha: number, power: number, maxN = 1e7): number {
  const df = p0.length - 1
  let effect = 0
  for (let i = 0; i < p0.length; i++) effect += (p1[i] - p0[i]) ** 2 / p0[i]
  if (effect <= 0) throw new RangeError('requiredNChiSquare: the alternative equals the null')
  const crit = chiSquareQuantile(1 - alpha, df)
  const pw = (n: number): number => 1 - noncentralChiSquareCdf(crit, df, n * effect)
  let hi = 1
  while (pw(hi) < power) {
    hi *= 2
    if (hi > maxN) throw new RangeError(`requiredNChiSquare: more than ${maxN} requests needed`)
  }
  let lo = Math.floor(hi / 2)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (pw(mid) >= power) hi = mid
    else lo = mid
  }
  return hi
}

export function chiSquareQuantile(p: number, df: number): number {
  let lo = 0
  let hi = Math.max(10, df * 10)
  while (chiSquareCdf(hi, df) < p) hi *= 2
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2
    if (chiSquareCdf(mid, df) < p) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

// ---------------------------------------------------------------- the sequential test

/**
 * One of Wald's binomial SPRTs: does `region` receive share p0 (H0) or p1 (H1)? Each response
 * is a Bernoulli trial "served by region" with log-likelihood ratio ln(p1/p0) or
 * ln((1-p1)/(1-p0)). Wald's bounds: accept H0 at ln(beta/(1-alpha)), reject it at
 * ln((1-beta)/alpha). Error rates are then at most about alpha and beta.
 */
export interface SprtArm {
  region: string
  p0: number
  p1: number
  alpha: number
  beta: number
  llr: number
  n: number
  hits: number
  decision: 'continue' | 'accept-h0' | 'reject-h0'
  decidedAt?: number
}

export interface SprtOptions {
  /** Overall type-I error: P(fail | the expected shares hold). Split over the arms (Bonferroni). */
  alpha: number
  /** Type-II error per alternative: P(pass | that alternative holds). */
  beta: number
}

export type Alternative = { region: string; share: number }

/**
 * The default alternatives for expected shares: every region expected below one half is tested
 * against its share doubled (10% -> 20%: "the minor region receives twice its weight", the usual
 * misconfiguration). With no region below one half (a 50/50 split) each region is tested
 * against three quarters. A zero-share region gets no arm: any response from it fails the check
 * at once (see SplitSprt).
 */
export function defaultAlternatives(expected: Record<string, number>): Alternative[] {
  const entries = Object.entries(expected).filter(([, p]) => p > 0 && p < 1)
  const minors = entries.filter(([, p]) => p < 0.5)
  const arms = minors.length ? minors.map(([region, p]) => ({ region, share: 2 * p })) : entries.map(([region, p]) => ({ region, share: (1 + p) / 2 }))
  return [...arms, ...leakAlternatives(expected)]
}

/**
 * The share of traffic still reaching a region whose expected share is 0 (a drained region) that
 * the check must not miss, unless `alternative` names another. One response from the region
 * fails the check at once; passing needs enough responses that a leak this large would have shown
 * one (about 90 at beta 0.01), so "drained" is measured, not assumed after zero requests.
 */
export const DEFAULT_LEAK = 0.05

export function leakAlternatives(expected: Record<string, number>): Alternative[] {
  return Object.entries(expected)
    .filter(([, p]) => p === 0)
    .map(([region]) => ({ region, share: DEFAULT_LEAK }))
}

/** Responses without one from a zero-share region after which a leak of `share` is ruled out (power 1 - beta). */
export function requiredNLeak(share: number, beta: number): number {
  return Math.ceil(Math.log(beta) / Math.log(1 - share))
}

export type SplitDecision = 'continue' | 'pass' | 'fail'

/**
 * The split check as a family of one-sided binomial SPRTs, one arm per alternative. It decides
 * "fail" as soon as any arm rejects H0 (or a response comes from a region with expected share 0),
 * "pass" once every arm has accepted H0. Each arm runs at alpha/arms, so the chance that the
 * check fails when the expected shares hold is at most about alpha; the chance it passes when
 * one stated alternative holds is at most about beta. Alternatives it was not given (e.g. a
 * share that halves) are not what it decides: state them explicitly when they matter.
 */
export class SplitSprt {
  readonly arms: SprtArm[]
  readonly expected: Record<string, number>
  readonly counts: Record<string, number>
  n = 0
  decision: SplitDecision = 'continue'
  reason = ''
  private readonly lower: number[]
  private readonly upper: number[]

  constructor(expected: Record<string, number>, alternatives: Alternative[], o: SprtOptions) {
    this.expected = expected
    this.counts = Object.fromEntries(Object.keys(expected).map((r) => [r, 0]))
    const m = Math.max(1, alternatives.length)
    this.arms = alternatives.map((a) => ({
      region: a.region,
      p0: expected[a.region],
      p1: a.share,
      alpha: o.alpha / m,
      beta: o.beta,
      llr: 0,
      n: 0,
      hits: 0,
      decision: 'continue'
    }))
    this.lower = this.arms.map((a) => Math.log(a.beta / (1 - a.alpha)))
    this.upper = this.arms.map((a) => Math.log((1 - a.beta) / a.alpha))
    if (this.arms.length === 0) {
      this.decision = 'pass'
      this.reason = 'no alternative to test against'
    }
  }

  /** Feeds one response served by `region`; returns the decision so far. */
  observe(region: string): SplitDecision {
    if (!(region in this.counts)) throw new RangeError(`unknown region ${region}`)
    this.counts[region]++
    this.n++
    if (this.decision !== 'continue') return this.decision
    if (this.expected[region] === 0) {
      this.decision = 'fail'
      this.reason = `a response came from ${region}, whose expected share is 0`
      return this.decision
    }
    this.arms.forEach((a, i) => {
      if (a.decision !== 'continue') return
      const hit = region === a.region
      a.n++
      if (hit) a.hits++
      a.llr += hit ? Math.log(a.p1 / a.p0) : Math.log((1 - a.p1) / (1 - a.p0))
      if (a.llr >= this.upper[i]) {
        a.decision = 'reject-h0'
        a.decidedAt = this.n
      } else if (a.llr <= this.lower[i]) {
        a.decision = 'accept-h0'
        a.decidedAt = this.n
      }
    })
    const rejected = this.arms.find((a) => a.decision === 'reject-h0')
    if (rejected) {
      this.decision = 'fail'
      this.reason = `${rejected.region}: the evidence favours a share of ${pct(rejected.p1)} over the expected ${pct(rejected.p0)}`
    } else if (this.arms.every((a) => a.decision === 'accept-h0')) {
      this.decision = 'pass'
      this.reason = this.arms.map((a) => `${a.region}: ${pct(a.p0)} favoured over ${pct(a.p1)}`).join('; ')
    }
    return this.decision
  }
}

export const pct = (p: number): string => `${(p * 100).toFixed(p * 100 >= 10 || p === 0 ? 1 : 2)}%`

/** The full share vector of an alternative: one region at `share`, the others scaled to fill. */
export function alternativeVector(expected: Record<string, number>, alt: Alternative): number[] {
  const rest = 1 - expected[alt.region]
  return Object.entries(expected).map(([r, p]) => (r === alt.region ? alt.share : rest > 0 ? (p * (1 - alt.share)) / rest : 0))
}

/**
 * The fixed-N decision (the SPRT's fallback when it runs out of requests, and the
 * `split-test: fixed` mode). Two regions: the exact two-sided binomial test of one region's
 * share. More regions: Pearson's chi-square goodness of fit. Fail when the test rejects at
 * alpha; pass only when N reaches the N that gives power 1 - beta against every stated
 * alternative; otherwise inconclusive.
 */
export interface FixedResult {
  decision: 'pass' | 'fail' | 'inconclusive'
  test: 'exact-binomial' | 'chi-square' | 'none'
  pValue: number
  n: number
  requiredN: number
  reason: string
}

export function requiredNFixed(expected: Record<string, number>, alternatives: Alternative[], o: SprtOptions): number {
  const p0 = Object.values(expected)
  if (alternatives.length === 0) return 0
  const leaks = alternatives.filter((a) => expected[a.region] === 0).map((a) => requiredNLeak(a.share, o.beta))
  const shares = alternatives.filter((a) => expected[a.region] > 0)
  const split =
    shares.length === 0 ? [] : p0.length === 2 ? shares.map((a) => requiredNExact(expected[a.region], a.share, o.alpha, 1 - o.beta)) : shares.map((a) => requiredNChiSquare(p0, alternativeVector(expected, a), o.alpha, 1 - o.beta))
  return Math.max(...leaks, ...split)
}

export function fixedDecision(counts: Record<string, number>, expected: Record<string, number>, alternatives: Alternative[], o: SprtOptions): FixedResult {
  const regions = Object.keys(expected)
  const n = regions.reduce((a, r) => a + (counts[r] ?? 0), 0)
  for (const r of regions) {
    if (expected[r] === 0 && (counts[r] ?? 0) > 0) {
      return { decision: 'fail', test: 'none', pValue: 0, n, requiredN: 0, reason: `${counts[r]} response(s) came from ${r}, whose expected share is 0` }
    }
  }
  const requiredN = requiredNFixed(expected, alternatives, o)
  let test: FixedResult['test']
  let pValue: number
  const splitRegion = regions.find((r) => expected[r] > 0 && expected[r] < 1)
  if (!splitRegion) {
    // a drained split (one region at 100%): the zero-share check above is the whole test
    test = 'none'
    pValue = 1
  } else if (regions.length === 2) {
    test = 'exact-binomial'
    pValue = binomTestTwoSided(counts[splitRegion] ?? 0, n, expected[splitRegion])
  } else {
    test = 'chi-square'
    pValue = chiSquareGof(regions.map((r) => counts[r] ?? 0), regions.map((r) => expected[r])).pValue
  }
  const shares = regions.map((r) => `${r} ${counts[r] ?? 0}/${n}`).join(', ')
  if (pValue <= o.alpha) return { decision: 'fail', test, pValue, n, requiredN, reason: `${test} test rejects the expected shares (${shares}; p = ${pValue.toPrecision(3)} <= alpha ${o.alpha})` }
  if (n >= requiredN) return { decision: 'pass', test, pValue, n, requiredN, reason: `${test} test does not reject (p = ${pValue.toPrecision(3)}) at N = ${n} >= ${requiredN} (power ${pct(1 - o.beta)})` }
  return { decision: 'inconclusive', test, pValue, n, requiredN, reason: `${test} test does not reject (p = ${pValue.toPrecision(3)}), but N = ${n} is below the ${requiredN} needed for power ${pct(1 - o.beta)}` }
}

export interface SplitVerdict {
  decision: 'pass' | 'fail' | 'inconclusive'
  reason: string
  method: string
}

/**
 * The split test's verdict on the responses `sprt` has seen: the SPRT's own decision once it has
 * one (`sequential`), otherwise the fixed-N test on the same counts (pass only at the N that
 * gives power 1 - beta, else inconclusive).
 */
export function splitVerdict(sprt: SplitSprt, alternatives: Alternative[], o: SprtOptions, sequential = true): SplitVerdict {
  if (sequential && sprt.decision !== 'continue') return { decision: sprt.decision, reason: sprt.reason, method: `SPRT (${sprt.arms.length} arm(s))` }
  const f = fixedDecision(sprt.counts, sprt.expected, alternatives, o)
  return { decision: f.decision, reason: f.reason, method: sequential ? `${f.test} (SPRT undecided after ${sprt.n})` : f.test }
}

/** One table row per region: expected share, responses, observed share, its Clopper-Pearson interval at 1 - alpha, whether the expected share lies inside. */
export function shareRows(regions: string[], expected: Record<string, number>, counts: Record<string, number>, alpha: number): Array<Array<string | number>> {
  const n = regions.reduce((a, r) => a + (counts[r] ?? 0), 0)
  return regions.map((r) => {
    const k = counts[r] ?? 0
    const ci = clopperPearson(k, n, alpha)
    const inside = expected[r] >= ci.lower && expected[r] <= ci.upper
    return [r, pct(expected[r]), k, n ? pct(k / n) : '-', `${pct(ci.lower)} - ${pct(ci.upper)}`, inside ? 'yes' : 'no']
  })
}
