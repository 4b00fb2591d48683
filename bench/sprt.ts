// P4: how many requests the sequential test needs to tell a 90/10 split from 80/20 at
// alpha = beta = 0.01, against the fixed-N exact binomial test's N (301 for the same alpha and
// power 0.99). Many seeded runs with the truth at 90/10 (H0) and at 80/20 (H1); the SPRT is the
// action's own (SplitSprt with the default alternative: the minor share doubled), fed one
// simulated response per step, capped at max-requests like the action (then the fixed-N test on
// the same responses decides). Goal: mean requests / 301 <= 0.5. Also prints the observed error
// rates, P(fail | 90/10) and P(pass | 80/20). The decision depends only on the sequence of
// regions, so the responses are simulated (the ingress's own weighted choice, same PRNG).
// Usage: node bench/sprt.ts [runs per truth, default 20000] [seed, default 1] [max-requests, default 1000]
import { seededRandom, weightedPick } from '../src/core/failover/random.ts'
import { defaultAlternatives, fixedDecision, requiredNFixed, SplitSprt } from '../src/core/failover/stats.ts'

const RUNS = Number(process.argv[2] ?? 20000)
const SEED = Number(process.argv[3] ?? 1)
const MAX = Number(process.argv[4] ?? 1000)
const o = { alpha: 0.01, beta: 0.01 }
const expected = { primary: 0.9, secondary: 0.1 }
const alternatives = defaultAlternatives(expected)
const fixedN = requiredNFixed(expected, alternatives, o)

interface Tally {
  n: number[]
  pass: number
  fail: number
  inconclusive: number
  truncated: number
}

function simulate(truth: Record<'primary' | 'secondary', number>, rand: () => number): Tally {
  const t: Tally = { n: [], pass: 0, fail: 0, inconclusive: 0, truncated: 0 }
  for (let i = 0; i < RUNS; i++) {
    const s = new SplitSprt(expected, alternatives, o)
    while (s.decision === 'continue' && s.n < MAX) s.observe(weightedPick(truth, rand)!)
    let d: 'pass' | 'fail' | 'inconclusive' = s.decision === 'continue' ? 'inconclusive' : s.decision
    if (s.decision === 'continue') {
      t.truncated++
      d = fixedDecision(s.counts, expected, alternatives, o).decision
    }
    t[d]++
    t.n.push(s.n)
  }
  return t
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length

const started = Date.now()
const rand = seededRandom(SEED)
const h0 = simulate({ primary: 0.9, secondary: 0.1 }, rand)
const h1 = simulate({ primary: 0.8, secondary: 0.2 }, rand)
const m0 = mean(h0.n)
const m1 = mean(h1.n)
const both = (m0 + m1) / 2

console.log(`P4: SPRT 90/10 vs 80/20, alpha = beta = ${o.alpha}, ${RUNS} seeded runs per truth (seed ${SEED}, max-requests ${MAX})`)
console.log(`fixed-N exact binomial test (two-sided, power ${1 - o.beta}): N = ${fixedN}`)
console.log('truth    mean N  median  p95   max   ratio  decided-wrong           truncated')
const row = (name: string, t: Tally, m: number, wrong: number, label: string): void =>
  console.log(
    `${name.padEnd(8)} ${m.toFixed(1).padStart(6)}  ${String(quantile(t.n, 0.5)).padStart(6)}  ${String(quantile(t.n, 0.95)).padStart(4)}  ${String(Math.max(...t.n)).padStart(4)}  ${(m / fixedN).toFixed(3)}  ${label} ${((wrong / RUNS) * 100).toFixed(2)}%   ${t.truncated}`
  )
row('90/10', h0, m0, h0.fail + h0.inconclusive, 'P(fail|90/10)')
row('80/20', h1, m1, h1.pass + h1.inconclusive, 'P(pass|80/20)')
console.log(`mean of both: ${both.toFixed(1)} requests; ratio to ${fixedN}: ${(both / fixedN).toFixed(3)} (goal <= 0.5) ${both / fixedN <= 0.5 ? 'MET' : 'NOT MET'}`)
console.log(`(${Date.now() - started} ms)`)
