// Schema statements through cqlsh's own Python driver, inside the pod, in one session.
//
// cqlsh (like every driver default) waits for schema agreement after each DDL: the driver polls
// system.local/system.peers until every node reports the new schema version, which travels by
// gossip (rounds of 1 s). On the sandbox that is ~0.6 s per ALTER against ~0.06 s for the ALTER
// itself. Here the driver session turns that wait off (max_schema_agreement_wait=0, no metadata
// refresh) and pins every statement to the one coordinator cqlsh would use, so the statements are
// applied in order on one node and need no agreement between them. A line `-- mr:agreement S`
// waits up to S seconds, once, for agreement as the driver checks it (the coordinator's
// system.local and system.peers show one schema version) and prints AGREEMENT_MARK with the
// versions seen; cqlsh -f reads the line as a comment, so the caller then asks nodetool.
//
// The driver is the one cqlsh runs on: the interpreter of cqlsh's `#!` line (pip's console script)
// or python3 with Apache's lib/cassandra-driver-internal-only-*.zip next to bin/cqlsh; TLS is set
// up by cqlsh's own cqlshlib.sslhandling from cqlshrc, as cqlsh does. When these do not import,
// the script exits 3 and the same exec falls back to `cqlsh -f` with the same file: one session
// either way.
// Errors keep cqlsh's `FILE:N:Class: message` shape (N = line + 1), so statementErrors() reads both.
// SELECT results print as cqlsh -f prints a one-column result (each value on its own line, then
// `(N rows)`), and `CONSISTENCY X` sets the session's level as in cqlsh, so a reader of cqlsh's
// output reads both paths. With MR_CQL_RATE set, statements start at most that many per second:
// cqlsh -f runs them back to back, the driver ~20x faster, which would load the serving DC.

/** Markers on stdout saying which path ran. */
export const DRIVER_MARK = '@@mr-cql driver'
export const FALLBACK_MARK = '@@mr-cql cqlsh'
/** `${AGREEMENT_MARK} agreed|disagreed <versions as JSON>` after a `-- mr:agreement S` line. */
export const AGREEMENT_MARK = '@@mr-cql agreement'

// Connection settings in cqlsh's order of precedence: cqlshrc [connection], then $CQLSH_HOST /
// $CQLSH_PORT, then the positional host/port and options of cqlsh's argv (passed through).
const PROGRAM = String.raw`import configparser, glob, os, sys
cqlsh, credentials, path = sys.argv[1:4]
for z in glob.glob(os.path.join(os.path.dirname(cqlsh), '..', 'lib', 'cassandra-driver-internal-only-*.zip')):
    sys.path.insert(0, z)
try:
    from cassandra import ConsistencyLevel
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster
    from cassandra.policies import WhiteListRoundRobinPolicy
except Exception as e:
    print('no driver: %s' % e, file=sys.stderr)
    sys.exit(3)
import json, logging, time
logging.basicConfig(level=logging.ERROR)
rc = configparser.ConfigParser(interpolation=None)
rcpath = os.path.expanduser('~/.cassandra/cqlshrc')
rc.read([rcpath])
host = os.environ.get('CQLSH_HOST', rc.get('connection', 'hostname', fallback='127.0.0.1'))
port = os.environ.get('CQLSH_PORT', rc.get('connection', 'port', fallback='9042'))
ssl = rc.getboolean('connection', 'ssl', fallback=False)
request_timeout = float(rc.get('connection', 'request_timeout', fallback='10'))
connect_timeout = float(rc.get('connection', 'timeout', fallback='5'))
args, pos = sys.argv[4:], []
while args:
    a = args.pop(0)
    if a == '--ssl':
        ssl = True
    elif a == '--request-timeout':
        request_timeout = float(args.pop(0))
    elif a == '--connect-timeout':
        connect_timeout = float(args.pop(0))
    elif not a.startswith('-'):
        pos.append(a)
host, port = (pos + [host, port])[0], (pos[1:] + [port])[0]
ssl_options = None
if ssl:
    # TLS exactly as cqlsh sets it up from cqlshrc [ssl] / $SSL_CERTFILE: with cqlsh's own module
    sys.path.insert(0, os.path.join(os.path.dirname(cqlsh), '..', 'pylib'))
    try:
        from cqlshlib import sslhandling
    except Exception as e:
        print('no driver: SSL needs cqlshlib: %s' % e, file=sys.stderr)
        sys.exit(3)
    ssl_options = sslhandling.ssl_settings(host, rcpath)
cr = configparser.ConfigParser(interpolation=None)
cr.read([credentials])
auth = None
if cr.has_section('plain_text_auth'):
    auth = PlainTextAuthProvider(cr.get('plain_text_auth', 'username'), cr.get('plain_text_auth', 'password'))
cluster = Cluster([host], port=int(port), auth_provider=auth, ssl_options=ssl_options, load_balancing_policy=WhiteListRoundRobinPolicy([host]),
                  max_schema_agreement_wait=0, schema_metadata_enabled=False, token_metadata_enabled=False,
                  connect_timeout=connect_timeout, control_connection_timeout=connect_timeout)
try:
    session = cluster.connect()
except Exception as e:
    print('Connection error: %s: %s' % (type(e).__name__, e), file=sys.stderr)
    sys.exit(1)
session.default_timeout = request_timeout
print('${DRIVER_MARK}', flush=True)
def agreement(limit):
    # as the driver's own wait: the coordinator's version and its peers' (a peer down keeps a stale one)
    end = time.monotonic() + limit
    while True:
        versions = set(str(r[0]) for r in session.execute("SELECT schema_version FROM system.local WHERE key = 'local'"))
        versions |= set(str(r[0]) for r in session.execute('SELECT schema_version FROM system.peers') if r[0] is not None)
        if len(versions) == 1 or time.monotonic() >= end:
            print('${AGREEMENT_MARK} %s %s' % ('agreed' if len(versions) == 1 else 'disagreed', json.dumps(sorted(versions))), flush=True)
            return
        time.sleep(0.1)
failed = 0
rate = float(os.environ.get('MR_CQL_RATE') or 0)
started, count = time.monotonic(), 0
with open(path) as f:
    for n, line in enumerate(f, start=2):
        statement = line.strip().rstrip(';')
        if not statement:
            continue
        words = statement.split()
        try:
            if words[0].startswith('--'):
                if len(words) == 3 and words[1] == 'mr:agreement':
                    agreement(float(words[2]))
                continue
            if words[0].upper() == 'CONSISTENCY' and len(words) == 2:
                session.default_consistency_level = ConsistencyLevel.name_to_value[words[1].upper()]
                continue
            if rate > 0:
                time.sleep(max(0, started + count / rate - time.monotonic()))
            count += 1
            rows = session.execute(statement)
            if words[0].upper() == 'SELECT':
                k = 0
                for row in (rows if rows is not None else []):
                    k += 1
                    # text as cqlsh prints it without colour (backslashes doubled): the same on both paths
                    print(' ' + ' | '.join(str(v).replace('\\', '\\\\') for v in row))
                print('(%d rows)' % k, flush=True)
        except Exception as e:
            failed += 1
            print('%s:%d:%s: %s' % (path, n, type(e).__name__, getattr(e, 'message', None) or e), file=sys.stderr)
cluster.shutdown()
sys.exit(2 if failed else 0)
`

/**
 * sh lines (after the statements are in "$d/in.cql" and the credentials in "$d/credentials"):
 * find cqlsh's interpreter, run the program, fall back to `cqlsh -f` on exit 3.
 */
export function driverLines(bin: string, credArg: string, ratePerS?: number): string[] {
  return [
    `c=$(command -v ${bin} || true); [ -z "$c" ] || c=$(readlink -f "$c" 2>/dev/null || printf '%s' "$c")`,
    'py=python3',
    `if [ -n "$c" ]; then l=$(head -n 1 "$c"); case "$l" in '#!'*python*) py=\${l#??};; esac; fi`,
    `cat > "$d/apply.py" <<'MR_PY'\n${PROGRAM}MR_PY`,
    `rc=0; MR_CQL_RATE=${ratePerS ?? ''} $py "$d/apply.py" "$c" "$d/credentials" "$d/in.cql" "$@" || rc=$?`,
    `if [ "$rc" = 3 ]; then echo '${FALLBACK_MARK}'; ${bin} ${credArg}-f "$d/in.cql" "$@"; exit $?; fi`,
    'exit $rc'
  ]
}

/** The line that makes the driver wait up to `seconds` for schema agreement (a comment to cqlsh -f). */
export function agreementLine(seconds: number): string {
  return `-- mr:agreement ${Math.max(1, Math.round(seconds))}`
}

/** What the driver saw after an agreementLine; undefined when it did not run (cqlsh -f). */
export function parseAgreement(stdout: string): { agreed: boolean; versions: string[] } | undefined {
  const m = new RegExp(`^${AGREEMENT_MARK} (agreed|disagreed) (\\[.*\\])$`, 'm').exec(stdout)
  return m ? { agreed: m[1] === 'agreed', versions: JSON.parse(m[2]) as string[] } : undefined
}
