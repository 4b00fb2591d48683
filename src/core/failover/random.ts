// A small seeded PRNG (mulberry32) for reproducible simulations: the benchmark, the sandbox
// ingress's weighted choice and the tests. Not for anything secret.
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Picks a key with probability proportional to its weight; undefined when all weights are 0. */
export function weightedPick<K extends string>(weights: Record<K, number>, rand: () => number): K | undefined {
  const entries = (Object.entries(weights) as Array<[K, number]>).filter(([, w]) => w > 0)
  const total = entries.reduce((a, [, w]) => a + w, 0)
  if (total <= 0) return undefined
  let x = rand() * total
  for (const [k, w] of entries) {
    x -= w
    if (x < 0) return k
  }
  return entries[entries.length - 1][0]
}
