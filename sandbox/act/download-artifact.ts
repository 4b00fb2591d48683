// Stand-in for actions/download-artifact@v4 under act (see upload-artifact.ts): downloads the
// artifact `name` of this run from act's artifact server into `path`.
import { DefaultArtifactClient } from '@actions/artifact'
import { resolve } from 'node:path'

const input = (name: string): string => (process.env[`INPUT_${name.toUpperCase()}`] ?? '').trim()

async function main(): Promise<void> {
  const name = input('name')
  if (!name) throw new Error("input 'name' is required by this stand-in (downloading every artifact is not needed here)")
  const path = resolve(process.env.GITHUB_WORKSPACE ?? '.', input('path') || '.')
  const client = new DefaultArtifactClient()
  const { artifact } = await client.getArtifact(name)
  const r = await client.downloadArtifact(artifact.id, { path })
  process.stdout.write(`downloaded artifact ${name} to ${r.downloadPath ?? path}\n`)
}

main().catch((e: unknown) => {
  process.stdout.write(`::error::${e instanceof Error ? e.message : String(e)}\n`)
  process.exitCode = 1
})
