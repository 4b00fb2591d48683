import { backoffDelay, formatDuration, parseDuration, pollUntil } from '../../src/core/wait.ts'
import { TimeoutError } from '../../src/core/errors.ts'

describe('parseDuration', () => {
  it.each([
    ['90s', 90000],
    ['5m', 300000],
    ['1h30m', 5400000],
    ['250ms', 250],
    ['12', 12000],
    ['1.5s', 1500]
  ])('%s -> %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms))
  it.each(['', 'abc', '5 minutes', '10x', '1h 30m', '-5s'])('rejects %p', (text) => expect(parseDuration(text)).toBeUndefined())
})

describe('formatDuration', () => {
  it('formats', () => {
    expect(formatDuration(450)).toBe('450ms')
    expect(formatDuration(1500)).toBe('1.5s')
    expect(formatDuration(3723000)).toBe('1h2m3s')
  })
})

describe('backoffDelay', () => {
  it('grows and caps', () => {
    const noJitter = { initialMs: 100, maxMs: 1000, jitter: 0 }
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, noJitter))).toEqual([100, 200, 400, 800, 1000, 1000])
  })
})

describe('pollUntil', () => {
  it('returns the first defined value', async () => {
    let n = 0
    const v = await pollUntil(async () => (++n >= 3 ? n : undefined), { timeoutMs: 5000, what: 'n', initialMs: 1 })
    expect(v).toBe(3)
  })
  it('times out naming what it waited for and the last state', async () => {
    await expect(
      pollUntil(async () => undefined, { timeoutMs: 50, what: 'peering a-to-b to be Connected', initialMs: 10, lastState: () => 'Initiated' })
    ).rejects.toThrow(new TimeoutError('timed out after 50ms waiting for peering a-to-b to be Connected; last state: Initiated'))
  })
})
