// Secrets into a pod without argv: `kubectl exec -i POD -- sh -c SCRIPT sh ARGS...` where the
// script reads the secret lines from stdin with the shell's builtin `read` (which consumes
// exactly one line, leaving the rest of stdin to the command), writes what the tool needs into a
// private temp dir (umask 077, removed on exit) with the builtin printf, and runs the tool. The
// secret values never appear in any process's argv, on the runner or in the pod.
import { ActionError } from '../errors.ts'

/**
 * The script. `vars` are shell variable names filled from the first stdin lines; `body` runs
 * with `$d` (the private dir), the variables and the positional args `"$@"`.
 */
export function secretShell(vars: string[], body: string): string {
  for (const v of vars) if (!/^[A-Z_][A-Z0-9_]*$/.test(v)) throw new Error(`bad shell variable name ${v}`)
  return [
    'set -e',
    'umask 077',
    'd=$(mktemp -d)',
    `trap 'rm -rf "$d"' EXIT`,
    'trap "exit 143" TERM INT HUP',
    ...vars.map((v) => `IFS= read -r ${v} || true`),
    body
  ].join('\n')
}

/** The stdin for secretShell: one line per secret, then `rest` (e.g. CQL statements). */
export function secretStdin(values: string[], rest = ''): string {
  for (const v of values) {
    if (/[\r\n]/.test(v)) throw new ActionError('a credential contains a line break', 'credentials must be single-line strings')
  }
  return values.map((v) => `${v}\n`).join('') + rest
}
