// Which region served a response: per region a rule on the body (regex), a header (name and a
// regex on its value) or a JSON field (dotted path and the value it must equal). Parsing a rule
// returns an error text instead of throwing, so input validation can report every bad rule.

export type RuleKind = 'body' | 'header' | 'json'

export type ClassifyRule =
  | { kind: 'body'; re: RegExp; source: string }
  | { kind: 'header'; name: string; re: RegExp; source: string }
  | { kind: 'json'; path: string[]; value: string; source: string }

export interface ProbeResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** Parses a rule: body `regex`; header `name: regex`; json `path.to.field=value`. */
export function parseRule(kind: string, spec: string): { rule: ClassifyRule } | { error: string } {
  const source = `${kind} ${spec}`
  const regex = (text: string): RegExp | string => {
    if (text === '') return 'an empty regular expression matches every response'
    try {
      return new RegExp(text)
    } catch (e) {
      return `not a valid regular expression (${(e as Error).message})`
    }
  }
  switch (kind) {
    case 'body': {
      const re = regex(spec)
      return typeof re === 'string' ? { error: re } : { rule: { kind, re, source } }
    }
    case 'header': {
      const m = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*:\s*(.*)$/.exec(spec)
      if (!m) return { error: "a header rule is 'name: regex' (e.g. 'x-region: ^eastus$')" }
      const re = regex(m[2])
      return typeof re === 'string' ? { error: re } : { rule: { kind, name: m[1].toLowerCase(), re, source } }
    }
    case 'json': {
      const m = /^([A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*)=(.*)$/.exec(spec)
      if (!m) return { error: "a json rule is 'path.to.field=value' (e.g. 'region=eastus')" }
      return { rule: { kind, path: m[1].split('.'), value: m[2], source } }
    }
    default:
      return { error: `unknown rule kind '${kind}'; use body, header or json` }
  }
}

function jsonField(body: unknown, path: string[]): unknown {
  let v = body
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined
    v = (v as Record<string, unknown>)[key]
  }
  return v
}

export function matches(rule: ClassifyRule, res: ProbeResponse, parsed: () => unknown): boolean {
  switch (rule.kind) {
    case 'body':
      return rule.re.test(res.body)
    case 'header': {
      const h = res.headers[rule.name]
      if (h === undefined) return false
      return (Array.isArray(h) ? h : [h]).some((v) => rule.re.test(v))
    }
    case 'json': {
      const v = jsonField(parsed(), rule.path)
      return v !== undefined && v !== null && typeof v !== 'object' && String(v) === rule.value
    }
  }
}

export type Classification = { region: string } | { unclassified: true } | { ambiguous: string[] }

/** The region whose rule matches; none -> unclassified; several -> ambiguous. */
export function classify(rules: Record<string, ClassifyRule>, res: ProbeResponse): Classification {
  let cache: { v: unknown } | undefined
  const parsed = (): unknown => {
    if (!cache) {
      try {
        cache = { v: JSON.parse(res.body) }
      } catch {
        cache = { v: undefined }
      }
    }
    return cache.v
  }
  const hits = Object.entries(rules)
    .filter(([, rule]) => matches(rule, res, parsed))
    .map(([r]) => r)
  if (hits.length === 1) return { region: hits[0] }
  if (hits.length === 0) return { unclassified: true }
  return { ambiguous: hits }
}
