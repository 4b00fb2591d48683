// Stand-in for actions/upload-artifact@v4 under act (the real one cannot be fetched offline):
// the same inputs, uploaded through @actions/artifact 2.3 (the client the real action is built
// on) to act's artifact server. Mapped with --local-repository actions/upload-artifact@v4=<dir>.
import { DefaultArtifactClient } from '@actions/artifact'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const input = (name: string): string => (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim()
const filesUnder = (p: string): string[] => (statSync(p).isDirectory() ? readdirSync(p).flatMap((f) => filesUnder(join(p, f))) : [p])

async function main(): Promise<void> {
  const name = input('name') || 'artifact'
  const paths = input('path').split('\n').map((p) => p.trim()).filter(Boolean).map((p) => resolve(process.env.GITHUB_WORKSPACE ?? '.', p))
  const present = paths.filter((p) => existsSync(p))
  const files = present.flatMap(filesUnder)
  if (files.length === 0) {
    const how = input('if-no-files-found') || 'warn'
    const msg = `No files were found with the provided path: ${paths.join(', ')}. No artifacts will be uploaded.`
    if (how === 'error') throw new Error(msg)
    if (how === 'warn') process.stdout.write(`::warning::${msg}\n`)
    return
  }
  // one path: its folder (or itself) is the root, as the real action does
  const root = present.length === 1 && statSync(present[0]).isDirectory() ? present[0] : dirname(present[0])
  const client = new DefaultArtifactClient()
  if (input('overwrite') === 'true') await client.deleteArtifact(name).catch(() => undefined)
  const r = await client.uploadArtifact(name, files, root)
  process.stdout.write(`uploaded artifact ${name} (${files.length} file(s), id ${r.id}, ${r.size} bytes)\n`)
}

main().catch((e: unknown) => {
  process.stdout.write(`::error::${e instanceof Error ? e.message : String(e)}\n`)
  process.exitCode = 1
})
