#!/usr/bin/env bash
# report.sh - command-line tests of spfcheck report (issue 19): golden
# output for each shape of report in testdata/reports/ (plain XML with a
# namespace and IPv6, the RFC 7489 schema in a zip, gzip, a mail
# message, stdin, a directory, a nested directory with a report of only
# the required fields (testdata/reports-more/), --json --sources, --csv,
# --what-if), then hostile input from testdata/reports-bad/ (each one
# line on stderr and exit 65, the next file still read), a zip bomb and a
# gzip bomb made here, directory recursion (links, dot files), the man
# page's example against a real run, and usage errors.  Runs in testdata/ so that file names in the output are
# relative.  No network: --offline with testdata/report.zone.
# usage: report.sh SPFCHECK TESTDATA_DIR [--update]
set -u
bin=$(readlink -f "$1")
td=$2
update=${3:-}
golden=$(cd "$(dirname "$0")" && pwd)/golden/report
. "$(dirname "$0")/expect.sh"
cd "$td" || exit 1
export LC_ALL=C.UTF-8

z=(--offline --zone report.zone)

# golden NAME ARGS...: stdout plus "[exit N]" against golden/report/NAME.out
golden() {
  local name=$1
  shift
  "$bin" "$@" >"$tmp/g" 2>"$tmp/gerr"
  echo "[exit $?]" >>"$tmp/g"
  [ "$update" = --update ] && cp "$tmp/g" "$golden/$name.out"
  if diff -u "$golden/$name.out" "$tmp/g" >"$tmp/d"; then
    ok "golden-$name"
  else
    bad "golden-$name" "output differs"; sed 's/^/  | /' "$tmp/d" "$tmp/gerr"
  fi
}

golden xml-namespace-ipv6 report "${z[@]}" reports/microsoft-ns.xml
golden gzip report "${z[@]}" reports/google.xml.gz
golden zip-rfc7489 report "${z[@]}" reports/yahoo.zip
golden eml report "${z[@]}" reports/fastmail.eml
golden directory report "${z[@]}" reports
golden json-sources report "${z[@]}" --json --sources reports
golden csv report "${z[@]}" --csv reports
golden records report "${z[@]}" --records reports/microsoft-ns.xml reports/yahoo.zip
golden json-records report "${z[@]}" --json --records reports/yahoo.zip
# a nested directory (read recursively, the dot file skipped) with a
# report that has only the required fields, one IPv6 address written
# three ways and an IPv4-mapped one (one source each), and one (IP,
# envelope domain) under two From domains
golden bare-recursive report "${z[@]}" reports-more
golden bare-json report "${z[@]}" --json --sources reports-more
golden what-if report "${z[@]}" --what-if \
  --record 'v=spf1 ip4:192.0.2.0/25 ip4:203.0.113.9 include:spf.protection.outlook.com -all' reports
"$bin" report "${z[@]}" - <reports/google.xml.gz >"$tmp/stdin" 2>&1
if grep -q 'report (stdin) .*from google.com' "$tmp/stdin"; then ok stdin; else bad stdin "$(cat "$tmp/stdin")"; fi

# progress on stderr only when it is a terminal: script(1) gives the
# command a pseudo-terminal; the report itself still goes to the file
if command -v script >/dev/null; then
  script -qec "'$bin' report --offline --zone report.zone reports >'$tmp/pout'" "$tmp/tty" >/dev/null 2>&1
  if grep -q 'report: 4 files, 11 records, 7 sources' "$tmp/tty" &&
     grep -q 'report: evaluated 7 of 7 sources' "$tmp/tty" &&
     grep -q '^outlook.com' "$tmp/pout" && ! grep -q $'\r' "$tmp/pout"; then
    ok progress-tty; else bad progress-tty "$(cat -A "$tmp/tty" | head -5)"; fi
  "$bin" report "${z[@]}" reports 2>"$tmp/perr" >/dev/null
  if [ ! -s "$tmp/perr" ]; then ok progress-not-tty; else bad progress-not-tty "$(head -3 "$tmp/perr")"; fi
fi

# the JSON is JSON, with a schema
"$bin" report "${z[@]}" --json reports >"$tmp/j"
if python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["schema"]==1 and o["groups"][0]["status"]=="attention" and "source_list" not in o["groups"][0]' "$tmp/j"; then
  ok json-schema; else bad json-schema "$(head -20 "$tmp/j")"; fi

# grouping: three outlook.com relays (two IPv4, one IPv6) are one group
# DM-20: p=reject, and all mail that passed DMARC passed by SPF alone
expect dm-20 0 "^warning\[DM-20\] example.com: the reports' policy is p=reject, and all 30 messages that passed DMARC passed by SPF alone, none by DKIM" -- report "${z[@]}" report-spf-only.xml
expect dm-20-json 0 '"rule": "DM-20"' -- report "${z[@]}" --json report-spf-only.xml
# in --csv, the last column (findings) of every row; in the page, a line
# of its own after the cards
golden csv-dm-20 report "${z[@]}" --csv report-spf-only.xml
expect dm-20-csv 0 '^example.com,192.0.2.10,mx1.example.com,.*,yes,DM-20$' -- report "${z[@]}" --csv report-spf-only.xml
expect dm-20-csv-header 0 ',aligned,findings$' -- report "${z[@]}" --csv report-spf-only.xml
expect dm-20-csv-what-if 0 ',aligned,what_if,what_if_mechanism,findings$' -- report "${z[@]}" --csv --what-if --record 'v=spf1 -all' report-spf-only.xml
"$bin" report "${z[@]}" --csv reports >"$tmp/o" 2>&1
if ! grep -q 'DM-20' "$tmp/o" && awk -F, 'NR > 1 && $NF != "" { exit 1 }' "$tmp/o"; then ok dm-20-csv-none
else bad dm-20-csv-none "$(head -3 "$tmp/o")"; fi
expect dm-20-html 0 '^<p class="finding" id="DM-20"><span class="sev s-warning">warning\[DM-20\]</span> example.com: the reports&#39; policy is p=reject, and all 30 messages that passed DMARC passed by SPF alone, none by DKIM: .* \(RFC 9989 §7.4, §8\)</p>$' -- report "${z[@]}" --format html report-spf-only.xml
"$bin" report "${z[@]}" --format html reports >"$tmp/o" 2>&1
if grep -q 'DM-20' "$tmp/o"; then bad dm-20-html-none "$(grep DM-20 "$tmp/o")"; else ok dm-20-html-none; fi
"$bin" report "${z[@]}" reports >"$tmp/o" 2>&1
if grep -q 'DM-20' "$tmp/o"; then bad dm-20-dkim "DM-20 with DKIM passing: $(grep DM-20 "$tmp/o")"; else ok dm-20-dkim; fi
expect group-org 0 '^outlook.com  249 messages, 3 sources' -- report "${z[@]}" reports
# the groups that need attention come first, with the term and explain
expect fail-first 0 'today:    fail  domain=example.com  mechanism="-all"' -- report "${z[@]}" reports
expect explain-line 0 '^    spfcheck explain 203.0.113.9 postmaster@example.com$' -- report "${z[@]}" reports
expect unaligned 0 'aligned:  no \(MAIL FROM and From are different organisations\)' -- report "${z[@]}" reports
# a PTR name whose A is another address is not a validated name
expect ptr-not-confirmed 0 '^  203.0.113.9  \(no validated name\)' -- report "${z[@]}" reports
expect what-if-change 0 '^  \[203.0.113.9\]: fail 18 -> pass 18$' -- report "${z[@]}" --what-if \
  --record 'v=spf1 ip4:192.0.2.0/25 ip4:203.0.113.9 include:spf.protection.outlook.com -all' reports

# many reports (240 files, nested, gzip'd and plain) with many distinct
# sources (4,788 (IP, envelope, From), 1,000 groups, 960 of them [IP]):
# each source's messages, reporters' results, result today, group and
# alignment, and the summary line, against what the generator computed
# (correctness at scale, not speed: tests/report-many.py)
mkdir -p "$tmp/many"
python3 "$(dirname "$golden")/../report-many.py" gen "$tmp/many"
"$bin" report --offline --zone "$tmp/many/many.zone" --csv "$tmp/many/reports" >"$tmp/many.csv" 2>"$tmp/e"
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$tmp/e" ] &&
   python3 "$(dirname "$golden")/../report-many.py" check "$tmp/many" "$tmp/many.csv" >"$tmp/d"; then
  ok many-sources; else bad many-sources "exit $rc: $(cat "$tmp/d" "$tmp/e")"; fi
"$bin" report --offline --zone "$tmp/many/many.zone" "$tmp/many/reports" >"$tmp/o" 2>&1
if [ "$(grep -c '^report ' "$tmp/o")" -eq 240 ] && grep -qxF "$(cat "$tmp/many/summary")" "$tmp/o"; then
  ok many-summary; else bad many-summary "$(grep -m1 ' sources in ' "$tmp/o") != $(cat "$tmp/many/summary")"; fi

# hostile and broken input: one line each, exit 65
bad_file() {  # bad_file NAME FILE REGEX [OPTIONS...]
  local name=$1 f=$2 re=$3
  shift 3
  expect "bad-$name" 65 "^spfcheck: reports-bad/$f: $re" --stderr -- report "${z[@]}" "$@" "reports-bad/$f"
}
bad_file not-xml not-xml.txt 'not a report: neither XML, gzip, zip nor a mail message$'
bad_file not-report not-report.xml 'not a DMARC aggregate report: the root element is <html>'
bad_file billion-laughs laughs.xml 'the XML has a DOCTYPE'
bad_file xxe xxe.xml 'the XML has a DOCTYPE'
bad_file truncated-gzip truncated.xml.gz 'gzip: truncated gzip input'
bad_file zip-two-files two-files.zip 'the zip holds more than one file'
bad_file zip-bomb-small small-bomb.zip 'zip: more than 65536 bytes once decompressed' --max-size 65536
# libxml2 prints a failed conversion to stderr itself unless told not to
bad_file bad-charset bad-charset.xml 'not XML: input conversion failed due to input error'
bad_file invalid-ip bad-ip.xml "record 1: source_ip '192.0.2.300' is not an IP address"
bad_file eml-without-report no-report.eml 'the message has no report attached'
# the XXE target never shows up
"$bin" report "${z[@]}" reports-bad/xxe.xml >"$tmp/o" 2>&1
if grep -q 'root:' "$tmp/o"; then bad xxe-no-leak "$(cat "$tmp/o")"; else ok xxe-no-leak; fi
# a bad file does not stop the others; the exit status says one was bad
"$bin" report "${z[@]}" reports-bad/laughs.xml reports/google.xml.gz >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ $rc -eq 65 ] && grep -q 'from google.com' "$tmp/o" && [ "$(wc -l <"$tmp/e")" -eq 1 ]; then
  ok bad-then-good; else bad bad-then-good "exit $rc: $(cat "$tmp/o" "$tmp/e")"; fi
# directories: links to directories are not followed (a loop), dot
# files are skipped, files in nested directories are read
mkdir -p "$tmp/tree/a/b/c" "$tmp/tree/.hidden"
cp reports/google.xml.gz "$tmp/tree/a/b/c/"
cp reports/yahoo.zip "$tmp/tree/a/"
cp reports-bad/laughs.xml "$tmp/tree/.hidden/"
cp reports-bad/xxe.xml "$tmp/tree/a/.xxe.xml"
ln -s .. "$tmp/tree/a/b/loop"
ln -sf "$PWD/reports/microsoft-ns.xml" "$tmp/tree/ms.xml"
"$bin" report "${z[@]}" "$tmp/tree" >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$tmp/e" ] && [ "$(grep -c '^report ' "$tmp/o")" -eq 3 ] &&
   grep -q "^report $tmp/tree/a/b/c/google.xml.gz " "$tmp/o" &&
   grep -q "^report $tmp/tree/ms.xml " "$tmp/o" &&
   grep -q '^3 reports, 9 records' "$tmp/o"; then
  ok directory-recursive; else bad directory-recursive "exit $rc: $(cat "$tmp/o" "$tmp/e")"; fi
# a zip bomb: 70 MiB of zeros in one member (about 70 KB of deflate), over
# the default 64 MiB
python3 -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    with z.open("report.xml", "w") as f:
        for _ in range(70):
            f.write(bytes(1 << 20))' "$tmp/bomb.zip"
expect zip-bomb 65 'zip: more than 67108864 bytes once decompressed' --stderr -- report "${z[@]}" "$tmp/bomb.zip"
# every hostile file in one run, a good report after them: one line
# each, in order, the good one still read, exit 65
"$bin" report "${z[@]}" reports-bad reports/google.xml.gz >"$tmp/o" 2>"$tmp/e"
rc=$?
nbad=$(find reports-bad -type f ! -name '.*' | wc -l)
if [ $rc -eq 65 ] && [ "$(wc -l <"$tmp/e")" -eq "$nbad" ] &&
   [ "$(grep -c '^spfcheck: reports-bad/[^:]*: ' "$tmp/e")" -eq "$nbad" ] &&
   grep -q '^report reports/google.xml.gz ' "$tmp/o" && grep -q '^1 report, 4 records' "$tmp/o"; then
  ok all-bad-then-good; else bad all-bad-then-good "exit $rc: $(cat "$tmp/e")"; fi
# a gzip bomb: 70 MiB of zeros in 70 KB, over the default 64 MiB
head -c 73400320 /dev/zero | gzip -1 >"$tmp/bomb.xml.gz"
expect gzip-bomb 65 'gzip: more than 67108864 bytes once decompressed' --stderr -- report "${z[@]}" "$tmp/bomb.xml.gz"
# a file over --max-size as read
expect oversized 65 'more than 1024 bytes \(--max-size\)' --stderr -- report "${z[@]}" --max-size 1024 reports/microsoft-ns.xml
# counts that would add up past 64 bits saturate
printf '<feedback><report_metadata/><record><row><source_ip>192.0.2.1</source_ip><count>18446744073709551615</count></row></record><record><row><source_ip>192.0.2.1</source_ip><count>5</count></row></record></feedback>' >"$tmp/huge.xml"
expect count-saturates 0 '^\[192.0.2.1\]  18446744073709551615 messages, 1 source' -- report "${z[@]}" "$tmp/huge.xml"
expect count-json 0 '"messages": 9223372036854775807,' -- report "${z[@]}" --json "$tmp/huge.xml"
# the report line names the reporter's email when given, and the
# policy's adkim (r when absent) beside aspf
printf '<feedback><report_metadata><org_name>Rcv</org_name><email>dmarc@rcv.example</email><report_id>a1</report_id></report_metadata><policy_published><domain>example.com</domain><adkim>s</adkim><p>none</p></policy_published><record><row><source_ip>192.0.2.1</source_ip><count>1</count></row></record></feedback>' >"$tmp/adkim.xml"
expect email-text 0 '^report .*adkim.xml  .*  from Rcv <dmarc@rcv.example>  id a1$' -- report "${z[@]}" "$tmp/adkim.xml"
expect adkim-text 0 '^  xml, policy example.com p=none adkim=s aspf=r, 1 record, 1 message$' -- report "${z[@]}" "$tmp/adkim.xml"
expect no-email-text 0 '^report .*huge.xml  .*  from -  id -$' -- report "${z[@]}" "$tmp/huge.xml"
# a field past 4096 bytes
printf '<feedback><report_metadata><org_name>%s</org_name></report_metadata></feedback>' \
  "$(head -c 5000 /dev/zero | tr '\0' x)" >"$tmp/long.xml"
expect long-field 65 '<org_name> is longer than 4096 bytes' --stderr -- report "${z[@]}" "$tmp/long.xml"
expect unreadable 66 'nosuch.xml: cannot open' --stderr -- report "${z[@]}" nosuch.xml

# the man page's example is a real run on the bundled report
sed -n '/^spfcheck report \\-\\-offline/,/^\.EE/p' "$(dirname "$golden")/../../doc/spfcheck.1" |
  sed -e '1d' -e '$d' -e 's/\\-/-/g' >"$tmp/man"
"$bin" report "${z[@]}" reports/google.xml.gz >"$tmp/o" 2>&1
if [ -s "$tmp/man" ] && diff -u "$tmp/man" "$tmp/o" >"$tmp/d"; then
  ok man-page-example; else bad man-page-example "$(cat "$tmp/d")"; fi

# usage
expect usage-no-file 64 'report needs FILE' --stderr -- report "${z[@]}"
expect usage-json-csv 64 '--json and --csv cannot be used together' --stderr -- report "${z[@]}" --json --csv reports
expect usage-what-if 64 'needs a draft --record' --stderr -- report "${z[@]}" --what-if reports
expect usage-draft 64 'goes with --what-if' --stderr -- report "${z[@]}" --record 'v=spf1 -all' reports
expect usage-max-size 64 "--max-size: 'lots' is not a size" --stderr -- report "${z[@]}" --max-size lots reports
expect usage-records-csv 64 '--records goes with text or --json' --stderr -- report "${z[@]}" --records --csv reports
expect usage-sources 64 '--sources goes with --json' --stderr -- report "${z[@]}" --sources reports

# report is a module (spfcheck-report.so, next to the executable in the
# build tree): one that does not load is one line and exit 70, and the
# other commands do not need it
mkdir -p "$tmp/mod"
cp "$bin" "$tmp/mod/spfcheck"
: >"$tmp/mod/spfcheck-report.so"
"$tmp/mod/spfcheck" report "${z[@]}" reports/microsoft-ns.xml >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ $rc -eq 70 ] && [ "$(wc -l <"$tmp/e")" -eq 1 ] &&
   grep -q '^spfcheck: report: cannot load its module spfcheck-report.so: .*spfcheck-report.so' "$tmp/e" &&
   [ ! -s "$tmp/o" ]; then
  ok module-broken; else bad module-broken "exit $rc: $(cat "$tmp/e")"; fi
"$tmp/mod/spfcheck" check --offline --zone report.zone 192.0.2.1 a@example.com >/dev/null 2>"$tmp/e"
rc=$?
if [ $rc -le 7 ] && [ ! -s "$tmp/e" ]; then ok module-not-needed; else bad module-not-needed "exit $rc: $(cat "$tmp/e")"; fi

echo "report: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
