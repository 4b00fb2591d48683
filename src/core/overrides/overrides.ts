// The Apigee hybrid overrides file, edited with the `yaml` Document API so every other key, the
// order and the comments survive: set / remove cassandra.multiRegionSeedHost, datacenter,
// rack, hostNetwork, k8sCluster.name / region; read what preflight compares between regions.
import { existsSync, readFileSync } from 'node:fs'
import YAML, { isMap, isScalar, type Document } from 'yaml'
import { ActionError } from '../errors.ts'

export interface CassandraSettings {
  clusterName?: string
  datacenter?: string
  rack?: string
  hostNetwork?: boolean
  multiRegionSeedHost?: string
}

/** The cluster a region's runtime registers as (Apigee's k8sCluster block). */
export interface K8sCluster {
  name?: string
  region?: string
}

export class Overrides {
  readonly path: string
  readonly doc: Document
  constructor(path: string, doc: Document) {
    this.path = path
    this.doc = doc
  }

  static parse(text: string, path: string): Overrides {
    const doc = YAML.parseDocument(text, { keepSourceTokens: false })
    if (doc.errors.length) {
      const e = doc.errors[0]
      const where = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : ''
      throw new ActionError(`overrides file ${path} is not valid YAML${where}: ${e.message.split('\n')[0]}`, 'fix the YAML syntax there (the file is the one you pass to apigeectl / helm)')
    }
    const root = doc.contents
    if (root !== null && !isMap(root)) {
      throw new ActionError(`overrides file ${path} must be a YAML mapping (gcp:, k8sCluster:, cassandra: ...)`, 'check that it is an Apigee hybrid overrides file')
    }
    const cas = doc.get('cassandra', true)
    if (cas !== undefined && cas !== null && !isMap(cas)) {
      throw new ActionError(`overrides file ${path}: 'cassandra' must be a mapping`, 'write it as cassandra: { hostNetwork: true, ... }')
    }
    return new Overrides(path, doc)
  }

  static load(path: string, what = 'overrides file'): Overrides {
    if (!existsSync(path)) throw new ActionError(`${what} '${path}' does not exist`, 'give the path relative to the workspace (check out the repository that holds it first)')
    return Overrides.parse(readFileSync(path, 'utf8'), path)
  }

  private scalar(path: (string | number)[]): unknown {
    const n = this.doc.getIn(path, true)
    if (n === undefined || n === null) return undefined
    if (!isScalar(n)) throw new ActionError(`overrides file ${this.path}: ${path.join('.')} must be a plain value`, `write it as ${path[path.length - 1]}: value`)
    return n.value
  }

  private str(path: (string | number)[]): string | undefined {
    const v = this.scalar(path)
    return v === undefined || v === null ? undefined : String(v)
  }

  get instanceID(): string | undefined {
    return this.str(['instanceID'])
  }

  get cassandra(): CassandraSettings {
    const hn = this.scalar(['cassandra', 'hostNetwork'])
    if (hn !== undefined && typeof hn !== 'boolean') {
      throw new ActionError(`overrides file ${this.path}: cassandra.hostNetwork is '${hn}', not true/false`, 'write cassandra.hostNetwork: true')
    }
    return {
      clusterName: this.str(['cassandra', 'clusterName']),
      datacenter: this.str(['cassandra', 'datacenter']),
      rack: this.str(['cassandra', 'rack']),
      hostNetwork: hn as boolean | undefined,
      multiRegionSeedHost: this.str(['cassandra', 'multiRegionSeedHost'])
    }
  }

  get k8sCluster(): K8sCluster {
    return { name: this.str(['k8sCluster', 'name']), region: this.str(['k8sCluster', 'region']) }
  }

  /** Sets k8sCluster.name / region (those given); returns the keys changed. */
  setK8sCluster(k: K8sCluster): string[] {
    const changed: string[] = []
    for (const key of ['name', 'region'] as const) {
      const v = k[key]
      if (v !== undefined && this.setIn(['k8sCluster', key], v)) changed.push(`k8sCluster.${key}`)
    }
    return changed
  }

  /** Sets a value, keeping the comments of an existing scalar (its node is updated in place). */
  setIn(path: string[], value: string | boolean): boolean {
    const n = this.doc.getIn(path, true)
    if (isScalar(n)) {
      if (n.value === value) return false
      n.value = value
      return true
    }
    if (this.doc.contents === null) this.doc.contents = this.doc.createNode({}) as never
    // a node, not the raw value: read back (getIn keeping scalars) it must be a Scalar like the parsed ones
    this.doc.setIn(path, this.doc.createNode(value))
    return true
  }

  /** Settings for a new region joining through seed hosts; returns the keys changed. */
  setSeed(s: { seedHosts: string[]; datacenter: string; rack: string }): string[] {
    const changed: string[] = []
    const set = (k: string, v: string | boolean): void => {
      if (this.setIn(['cassandra', k], v)) changed.push(`cassandra.${k}`)
    }
    set('hostNetwork', true)
    set('multiRegionSeedHost', s.seedHosts.join(','))
    set('datacenter', s.datacenter)
    set('rack', s.rack)
    return changed
  }

  /** Removes cassandra.multiRegionSeedHost (finalize); false when it was not there. */
  removeSeed(): boolean {
    if (this.doc.getIn(['cassandra', 'multiRegionSeedHost']) === undefined) return false
    this.doc.deleteIn(['cassandra', 'multiRegionSeedHost'])
    return true
  }

  toString(): string {
    return this.doc.toString()
  }
}

/**
 * The refusal for a new region's overrides that would register as another region's cluster:
 * its k8sCluster (name and region) equals the one of an existing region's file.
 */
export function k8sClusterClash(target: Overrides, others: Overrides[], fix: string): ActionError | undefined {
  const t = target.k8sCluster
  if (t.name === undefined) return undefined
  const same = others.find((o) => o.path !== target.path && o.k8sCluster.name === t.name && o.k8sCluster.region === t.region)
  if (!same) return undefined
  return new ActionError(
    `overrides ${target.path}: k8sCluster (name '${t.name}', region '${t.region ?? '(unset)'}') equals the k8sCluster of ${same.path}: the new cluster would register as that region's`,
    fix
  )
}
