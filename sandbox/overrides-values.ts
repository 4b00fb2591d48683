// How the sandbox's "hybrid runtime install" reads an overrides file: plain YAML values, as Helm
// reads a values file (the world's own reading, independent of the actions' overrides editor).
import { existsSync, readFileSync } from 'node:fs'
import YAML from 'yaml'

export interface InstallValues {
  clusterName?: string
  datacenter?: string
  rack?: string
  /** as written: a boolean, or whatever else the file holds (the install refuses anything but true) */
  hostNetwork?: unknown
  multiRegionSeedHost?: string
  replicaCount?: unknown
}

/** Throws with Helm's wording when the file is missing or not a YAML mapping. */
export function readInstallValues(file: string): InstallValues {
  if (!existsSync(file)) throw new Error(`open ${file}: no such file or directory`)
  let doc: unknown
  try {
    doc = YAML.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    throw new Error(`failed to parse ${file}: error converting YAML to JSON: ${(e as Error).message.split('\n')[0]}`)
  }
  if (doc !== null && doc !== undefined && (typeof doc !== 'object' || Array.isArray(doc))) {
    throw new Error(`failed to parse ${file}: error unmarshaling JSON: cannot unmarshal ${Array.isArray(doc) ? 'array' : typeof doc} into Go value of type map[string]interface {}`)
  }
  const cas = (doc as Record<string, unknown> | null)?.cassandra
  if (cas === undefined || cas === null) return {}
  if (typeof cas !== 'object' || Array.isArray(cas)) throw new Error(`${file}: cassandra must be a mapping (cassandra: { hostNetwork: true, ... })`)
  const c = cas as Record<string, unknown>
  const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v))
  return {
    clusterName: str(c.clusterName),
    datacenter: str(c.datacenter),
    rack: str(c.rack),
    hostNetwork: c.hostNetwork,
    multiRegionSeedHost: str(c.multiRegionSeedHost),
    replicaCount: c.replicaCount
  }
}
