// Typed, validated action inputs. A reader collects every problem and `done()` throws them
// together, so a user fixes all bad inputs in one round and nothing is changed before that.
// A value may come from the input or, when the input is empty, from the topology file; the
// error then names the topology field instead of the input.
import * as core from '@actions/core'
import { Address4 } from 'ip-address'
import { ActionError, InputError, InputErrors } from './errors.ts'
import { parseDuration } from './wait.ts'

export type InputSource = (name: string) => string

export interface Fallback<T> {
  /** Where the fallback value comes from, e.g. "topology regions.eastus.azure.vnet"; '' when no region was named. */
  from: string
  value: T | undefined
}

/** A fallback from the topology file. */
export const fallback = <T>(from: string, value: T | undefined): Fallback<T> => ({ from, value })

interface Common<T> {
  required?: boolean
  default?: T
  fallback?: Fallback<T>
}

export class InputReader {
  private readonly errors: ActionError[] = []
  private readonly source: InputSource
  private topologyFailed = false
  constructor(source: InputSource = (n) => core.getInput(n)) {
    this.source = source
  }

  /** Records a problem found outside the typed getters (e.g. a cross-field check). */
  fail(err: ActionError): void {
    this.errors.push(err)
  }

  get failed(): boolean {
    return this.errors.length > 0
  }

  /**
   * Records that the topology file (or a region named in it) could not be read. Inputs that fall
   * back on the topology are then not reported as missing: that would be a second, false error
   * for the one mistake already reported.
   */
  failTopology(err?: ActionError): void {
    this.topologyFailed = true
    if (err) this.errors.push(err)
  }

  /** Whether a fallback-bearing input may be missing only because the topology failed to load. */
  get topologyUnreadable(): boolean {
    return this.topologyFailed
  }

  /** Whether the input was given (not empty), without validating it. */
  given(name: string): boolean {
    return this.raw(name) !== ''
  }

  /** Throws every recorded problem at once. */
  done(): void {
    if (this.errors.length === 1) throw this.errors[0]
    if (this.errors.length > 1) throw new InputErrors(this.errors)
  }

  private raw(name: string): string {
    return this.source(name).trim()
  }

  /**
   * Core of every getter: input, else fallback, else default; `parse` returns the value or an
   * error text; `accepted` says what would be right.
   */
  private read<T>(name: string, o: Common<T>, accepted: string, parse: (s: string) => Parsed<T>): T | undefined {
    const text = this.raw(name)
    if (text !== '') {
      const v = parse(text)
      if ('error' in v) {
        this.errors.push(new InputError(name, `${v.error} (got '${text}')`, accepted))
        return undefined
      }
      return v.ok
    }
    if (o.fallback && o.fallback.value !== undefined) return o.fallback.value
    if (o.default !== undefined) return o.default
    if (o.required) {
      if (o.fallback && this.topologyFailed) return undefined
      const where = o.fallback?.from ? ` and ${o.fallback.from} is not set` : ''
      this.errors.push(new InputError(name, `is required${where}`, accepted))
    }
    return undefined
  }

  /** A string, optionally checked against a pattern. */
  string(name: string, o: Common<string> & { pattern?: RegExp; accepted?: string } = {}): string | undefined {
    const accepted = o.accepted ?? (o.pattern ? `a value matching ${o.pattern}` : 'a non-empty string')
    const v = this.read<string>(name, o, accepted, (s) => ({ ok: s }))
    if (v !== undefined && o.pattern && !o.pattern.test(v)) {
      const src = this.raw(name) !== '' ? `input '${name}'` : o.fallback?.from || `input '${name}'`
      this.errors.push(new ActionError(`${src}: '${v}' is not valid`, accepted))
      return undefined
    }
    return v
  }

  /** Like string() but required: returns '' (never used) after recording the error. */
  requiredString(name: string, o: Omit<Common<string>, 'required'> & { pattern?: RegExp; accepted?: string } = {}): string {
    return this.string(name, { ...o, required: true }) ?? ''
  }

  bool(name: string, o: Common<boolean> = {}): boolean {
    const accepted = "'true' or 'false'"
    return (
      this.read<boolean>(name, o, accepted, (s) => {
        const l = s.toLowerCase()
        if (l === 'true') return { ok: true }
        if (l === 'false') return { ok: false }
        return bad('not a boolean')
      }) ?? false
    )
  }

  int(name: string, o: Common<number> & { min?: number; max?: number } = {}): number | undefined {
    const range = `${o.min ?? '-inf'}..${o.max ?? 'inf'}`
    return this.read<number>(name, o, `a whole number in ${range}`, (s) => {
      if (!/^-?\d+$/.test(s)) return bad('not a whole number')
      const n = Number(s)
      if ((o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max)) return bad(`out of range ${range}`)
      return { ok: n }
    })
  }

  number(name: string, o: Common<number> & { min?: number; max?: number; exclusiveMin?: boolean } = {}): number | undefined {
    const range = `${o.exclusiveMin ? '(' : '['}${o.min ?? '-inf'}, ${o.max ?? 'inf'}]`
    return this.read<number>(name, o, `a number in ${range}`, (s) => {
      const n = Number(s)
      if (s === '' || !Number.isFinite(n)) return bad('not a number')
      if (o.min !== undefined && (o.exclusiveMin ? n <= o.min : n < o.min)) return bad(`out of range ${range}`)
      if (o.max !== undefined && n > o.max) return bad(`out of range ${range}`)
      return { ok: n }
    })
  }

  /** A duration such as 90s, 5m, 1h30m (a bare number is seconds); returns milliseconds. */
  duration(name: string, o: Common<number> & { minMs?: number; maxMs?: number } = {}): number | undefined {
    const accepted = 'a duration such as 30s, 10m, 1h30m (a bare number means seconds)'
    return this.read<number>(name, o, accepted, (s) => {
      const ms = parseDuration(s)
      if (ms === undefined) return bad('not a duration')
      if (o.minMs !== undefined && ms < o.minMs) return bad(`shorter than ${o.minMs}ms`)
      if (o.maxMs !== undefined && ms > o.maxMs) return bad(`longer than ${o.maxMs}ms`)
      return { ok: ms }
    })
  }

  choice<C extends string>(name: string, choices: readonly C[], o: Common<C> = {}): C | undefined {
    return this.read<C>(name, o, `one of ${choices.join(', ')}`, (s) =>
      (choices as readonly string[]).includes(s) ? { ok: s as C } : bad('not one of the choices')
    )
  }

  /** A list separated by commas or newlines; empty items dropped. */
  list(name: string, o: Common<string[]> & { item?: RegExp; accepted?: string } = {}): string[] {
    const accepted = o.accepted ?? 'a comma- or newline-separated list'
    return (
      this.read<string[]>(name, o, accepted, (s) => {
        const items = splitList(s)
        const wrong = o.item ? items.filter((x) => !o.item!.test(x)) : []
        return wrong.length ? bad(`bad item(s) ${wrong.map((b) => `'${b}'`).join(', ')}`) : { ok: items }
      }) ?? []
    )
  }

  /** TCP ports: "7000-7001", "7000,7001" or a mix; returns sorted unique ports. */
  ports(name: string, o: Common<number[]> = {}): number[] {
    return this.read<number[]>(name, o, "ports 1-65535 as '7000-7001' or '7000,7001'", parsePorts) ?? []
  }

  /** An IPv4 CIDR block such as 10.1.0.0/16. */
  cidr(name: string, o: Common<string> = {}): string | undefined {
    return this.read<string>(name, o, 'an IPv4 CIDR block such as 10.1.0.0/16', (s) =>
      isCidr(s) ? { ok: s } : bad('not an IPv4 CIDR block')
    )
  }
}

export type Parsed<T> = { ok: T } | { error: string }
const bad = (error: string): { error: string } => ({ error })

export function splitList(s: string): string[] {
  return s
    .split(/[\n,]/)
    .map((x) => x.trim())
    .filter((x) => x !== '')
}

export function parsePorts(s: string): Parsed<number[]> {
  const out = new Set<number>()
  for (const part of splitList(s)) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part)
    if (!m) return bad(`'${part}' is not a port or range`)
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (lo < 1 || hi > 65535 || lo > hi) return bad(`'${part}' is outside 1-65535 or reversed`)
    if (hi - lo > 1024) return bad(`'${part}' opens more than 1024 ports`)
    for (let p = lo; p <= hi; p++) out.add(p)
  }
  if (out.size === 0) return bad('no ports given')
  return { ok: [...out].sort((a, b) => a - b) }
}

export function isCidr(s: string): boolean {
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(s)) return false
  try {
    const a = new Address4(s)
    return a.subnetMask >= 0 && a.subnetMask <= 32
  } catch {
    return false
  }
}
