#!/usr/bin/env bash
# bench/report.sh - spfcheck report on generated DMARC aggregate reports:
# records per second and peak RSS, and whether memory follows the
# distinct sources rather than the records (issue 19).
#
#   bash bench/report.sh [FILES [RECORDS_PER_FILE [SOURCES]]]
#
# Defaults: 1000 gzip'd reports of 1000 records (10^6 records) from 4000
# distinct (IP, envelope domain) sources; a month of a busy domain is
# about 10^4 files and 10^6 records (bash bench/report.sh 10000 100).
# Each source has a PTR name confirmed by its A record and one of four
# envelope domains with an SPF record, in a generated zone (--offline).
# Runs twice: all the records, then a tenth of them over the same
# sources, so that the two peak RSS figures can be compared.  Each run
# prints its wall time and its CPU time (user + system) with the load
# average before it: on a shared, loaded machine the wall time measures
# the load as much as the program, so compare runs by CPU time (or by
# instruction counts: valgrind --tool=callgrind, doc/benchmarks.md).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SPF="${SPFCHECK:-$ROOT/build/cmd/spfcheck}"
FILES=${1:-1000}
PER=${2:-1000}
SOURCES=${3:-4000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" "$FILES" "$PER" "$SOURCES" <<'PY'
import gzip, os, random, sys
work, files, per, sources = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(19)
doms = ['example.com', 'mail.example.com', 'bounce.esp.example.net', 'news.example.com']
src = [(f'10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}', doms[i % 4]) for i in range(sources)]
with open(f'{work}/gen.zone', 'w') as z:
    z.write('$TTL 3600\n')
    z.write('example.com. IN TXT "v=spf1 ip4:10.0.0.0/18 include:_spf.esp.example.net -all"\n')
    z.write('mail.example.com. IN TXT "v=spf1 redirect=example.com"\n')
    z.write('_spf.esp.example.net. IN TXT "v=spf1 ip4:10.0.64.0/18 ~all"\n')
    z.write('bounce.esp.example.net. IN TXT "v=spf1 include:_spf.esp.example.net -all"\n')
    z.write('_dmarc.example.com. IN TXT "v=DMARC1; p=reject"\n')
    for i, (ip, _) in enumerate(src):
        o = ip.split('.')
        name = f'out{i}.relay{i % 50}.sender{i % 200}.example.org.'
        z.write(f'{name} IN A {ip}\n{o[3]}.{o[2]}.{o[1]}.{o[0]}.in-addr.arpa. IN PTR {name}\n')
os.mkdir(f'{work}/reports')
rec = ('<record><row><source_ip>{ip}</source_ip><count>{n}</count><policy_evaluated>'
       '<disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>'
       '<identifiers><header_from>example.com</header_from><envelope_from>{d}</envelope_from>'
       '</identifiers><auth_results><spf><domain>{d}</domain><scope>mfrom</scope>'
       '<result>pass</result></spf></auth_results></record>\n')
for f in range(files):
    parts = [f'<?xml version="1.0"?>\n<feedback><report_metadata><org_name>gen{f % 7}</org_name>'
             f'<report_id>{f}</report_id><date_range><begin>1796083200</begin><end>1796169599</end>'
             '</date_range></report_metadata><policy_published><domain>example.com</domain>'
             '<p>reject</p></policy_published>\n']
    for _ in range(per):
        ip, d = src[rnd.randrange(sources)]
        parts.append(rec.format(ip=ip, n=rnd.randrange(1, 50), d=d))
    parts.append('</feedback>\n')
    with gzip.open(f'{work}/reports/r{f:05d}.xml.gz', 'wt', compresslevel=1) as g:
        g.write(''.join(parts))
os.mkdir(f'{work}/tenth')
for f in range(0, files, 10):
    os.link(f'{work}/reports/r{f:05d}.xml.gz', f'{work}/tenth/r{f:05d}.xml.gz')
PY

run() {  # run LABEL DIR RECORDS
  local load
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
    "$SPF" report --offline --zone "$work/gen.zone" --csv "$2" >"$work/out"
  read -r secs user sys kb <"$work/time"
  python3 -c "import sys; s=float(sys.argv[2]); c=float(sys.argv[6])+float(sys.argv[7]); r=int(sys.argv[3]); print(f'{sys.argv[1]}: {r} records, {sys.argv[5]} sources in {s:.2f} s = {r/max(s,0.01):,.0f} records/s; CPU {c:.2f} s = {r/max(c,0.01):,.0f} records per CPU second; peak RSS {int(sys.argv[4])/1024:.1f} MiB; load average before {sys.argv[8]}')" \
    "$1" "$secs" "$3" "$kb" "$(($(wc -l <"$work/out") - 1))" "$user" "$sys" "$load"
}
echo "bench/report.sh: $FILES files x $PER records, $SOURCES sources ($(du -sh "$work/reports" | cut -f1) gzip'd), $(nproc) cores"
run "all" "$work/reports" $((FILES * PER))
run "a tenth" "$work/tenth" $(( (FILES + 9) / 10 * PER ))
