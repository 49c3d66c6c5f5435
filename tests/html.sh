#!/usr/bin/env bash
# html.sh - the HTML pages of --format html (issue 20), loaded in headless
# Chromium: the DOM after load holds what the page must show (the
# deciding term, the counters, the IP and sender in the title), no text
# from DNS became an element (a zone whose TXT records carry <script> and
# an attribute break-out with onerror), the page asks the network for
# nothing (Chromium's net log, behind a proxy that refuses everything),
# and its screenshot is not blank, with a light background and, with the
# colour scheme forced dark, a dark one.  Needs chromium (bootstrap.sh installs
# it): without it the test fails.  Each Chromium run is bounded by timeout.
# usage: html.sh SPFCHECK TESTDATA_DIR [--screenshot PNG]
#   --screenshot PNG: also keep the explain page's screenshot as PNG (the
#   README's, doc/explain-html.png)
set -u
bin=$1
td=$2
keep_shot=
[ "${3:-}" = --screenshot ] && keep_shot=${4:?--screenshot needs a file}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/expect.sh"
check=("$(command -v python3)" "$here/html_check.py")
export SPFCHECK_PROVIDERS=$(cd "$td/.." && pwd)/data/providers.txt

if ! command -v chromium >/dev/null; then
  bad chromium "not installed (bootstrap.sh installs the chromium package)"
  echo "html: $pass passed, $fail failed"; exit 1
fi

# chrome ARGS...: headless, a profile of its own, the browser's own
# background services off, every request through a proxy that refuses it
chrome() {
  timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$tmp/profile" --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --disable-default-apps \
    --disable-extensions --proxy-server=127.0.0.1:9 --proxy-bypass-list='<-loopback>' \
    "$@" 2>>"$tmp/chromium.log"
}

# page NAME WANT_EXIT ARGS...: spfcheck ARGS --format html -o $tmp/NAME.html
page() {
  local name=$1 want=$2
  shift 2
  "$bin" "$@" --format html -o "$tmp/$name.html" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -ne "$want" ]; then bad "$name" "exit $rc, want $want"; sed 's/^/  | /' "$tmp/err"; return 1; fi
  if [ -s "$tmp/out" ]; then bad "$name" "-o FILE, yet output on stdout"; return 1; fi
  if grep -qi '<script' "$tmp/$name.html"; then bad "$name" "a <script in the page"; return 1; fi
  ok "$name written"
}

# load NAME CHECKS...: the DOM after load (html_check.py dom CHECKS) and
# the net log of that load
load() {
  local name=$1
  shift
  if ! chrome --log-net-log="$tmp/$name.netlog" --dump-dom "file://$tmp/$name.html" >"$tmp/$name.dom"; then
    bad "$name-dom" "chromium failed"; tail -5 "$tmp/chromium.log" | sed 's/^/  | /'; return 1; fi
  if "${check[@]}" dom "$tmp/$name.dom" "$@" >"$tmp/why"; then ok "$name-dom"
  else bad "$name-dom" "$(head -5 "$tmp/why")"; fi
  if "${check[@]}" net "$tmp/$name.netlog" >"$tmp/why"; then ok "$name-no-fetch"
  else bad "$name-no-fetch" "$(head -5 "$tmp/why")"; fi
}

# shot NAME [dark]: a screenshot of the page, which must not be blank;
# its background light, or with dark the one of the dark theme: the
# colour scheme forced dark (--force-dark-mode, and Blink's setting
# preferredColorScheme=0, dark; with Debian's chromium 156 either alone
# turns on prefers-color-scheme: dark, headless)
shot() {
  local name=$1 theme=${2:-light} png=$tmp/$1.png flags=()
  if [ "$theme" = dark ]; then
    png=$tmp/$name-dark.png
    flags=(--force-dark-mode --blink-settings=preferredColorScheme=0)
  fi
  if ! chrome --window-size=1000,760 "${flags[@]}" --screenshot="$png" "file://$tmp/$name.html" >/dev/null; then
    bad "$name-screenshot-$theme" "chromium failed"; tail -5 "$tmp/chromium.log" | sed 's/^/  | /'; return 1; fi
  if "${check[@]}" png "$png" --background "$theme" >"$tmp/why"; then
    ok "$name-screenshot-$theme ($(sed 's/^[^:]*: //' "$tmp/why"))"
  else bad "$name-screenshot-$theme" "$(tr '\n' ' ' <"$tmp/why")"; fi
}

# the checks see what they look for: a page that loads an image and a
# style sheet from the network fails both
printf '<!DOCTYPE html><title>probe</title><img src="x.png"><link rel=stylesheet href="http://203.0.113.1/s.css">\n' >"$tmp/probe.html"
if chrome --log-net-log="$tmp/probe.netlog" --dump-dom "file://$tmp/probe.html" >"$tmp/probe.dom"; then
  if "${check[@]}" dom "$tmp/probe.dom" >/dev/null; then bad probe-dom "an <img> went unseen"; else ok probe-dom; fi
  if "${check[@]}" net "$tmp/probe.netlog" >/dev/null; then bad probe-net "a fetch went unseen"; else ok probe-net; fi
else
  bad probe "chromium failed"; tail -5 "$tmp/chromium.log" | sed 's/^/  | /'
fi

# a page without a dark theme stays light when the scheme is forced dark:
# the dark check sees the difference
printf '<!DOCTYPE html><title>light only</title><p>%s</p>\n' "$(printf 'text %.0s' {1..200})" >"$tmp/light-only.html"
if chrome --window-size=600,400 --force-dark-mode --blink-settings=preferredColorScheme=0 \
    --screenshot="$tmp/light-only.png" "file://$tmp/light-only.html" >/dev/null; then
  if "${check[@]}" png "$tmp/light-only.png" --background dark >/dev/null; then
    bad probe-dark "a light page passed as dark"; else ok probe-dark; fi
else
  bad probe-dark "chromium failed"; tail -5 "$tmp/chromium.log" | sed 's/^/  | /'
fi

dz=(--offline --zone "$td/demo.zone")
hz=(--offline --zone "$td/html-hostile.zone")

# explain: the deciding term, the counters, TTLs, the explanation
if page explain 1 explain "${dz[@]}" 192.0.2.99 alice@example.com; then
  load explain --title 192.0.2.99 --title alice@example.com --title 'SPF fail' \
    --class deciding=-all --class lookups=2/10 --class voids=0/2 \
    --class ttl='TTL 3600' --class explanation='192.0.2.99 is not a mail server of example.com' \
    --class decides='decides' --text 'include:_spf.esp.example.net'
  shot explain
  shot explain dark
  if [ -n "$keep_shot" ] && [ -f "$tmp/explain.png" ]; then cp "$tmp/explain.png" "$keep_shot"; fi
fi

# hostile text from DNS: shown as text, no element made of it
hs='x<b>"@hostile.example'
if page hostile 1 explain "${hz[@]}" 198.51.100.7 "$hs"; then
  for w in '&lt;script&gt;alert(1)&lt;/script&gt;' '&quot;&gt;&lt;img src=x onerror=alert(2)&gt;' \
            'a:&quot;&gt;&lt;img.src=x.onerror=alert(3)&gt;' '<title>SPF fail: x&lt;b&gt;&quot;@hostile.example'; do
    if grep -qF -- "$w" "$tmp/hostile.html"; then ok "hostile-escaped $w"; else bad hostile-escaped "no '$w'"; fi
  done
  load hostile --title "$hs" --text '<script>alert(1)</script>' \
    --text '"><img src=x onerror=alert(2)>' --class explanation='"><img src=x onerror=alert(2)>' \
    --class deciding=-all
fi

# tree and lint: one page, the findings underlined at their bytes, the
# lookup-cost tree with provider names, the networks
tz=(--offline --zone "$td/tree.zone")
if page tree 1 tree "${tz[@]}" shop.example.com; then
  load tree --title shop.example.com --class lookups=12/10 --class provider='Google Workspace' \
    --text 'lookup 11: past the limit of 10' --text 'Authorised networks' \
    --class networks='include:_spf.google.com'
fi
if page lint 2 lint "${dz[@]}" --domain example.com --record 'v=spf1 mx include:_spf.esp.example.net ipv4:198.51.100.16/28 -all'; then
  load lint --title 'SPF record of example.com: 1 error' --class u=ipv4 --class errors=1 \
    --class finding='L-SYNTAX' --class lookups=2/10
  if grep -qF 'title="error[L-SYNTAX]: unknown mechanism' "$tmp/lint.html"; then ok lint-hover; else bad lint-hover "no title with the rule on the underline"; fi
  shot lint
  shot lint dark
fi
# a clean record: the page still shows it and says it is clean
if page lint-clean 0 lint "${dz[@]}" mail.example.com; then
  load lint-clean --title 'mail.example.com: 0 errors' --class record='v=spf1 a -all' \
    --class clean='Clean: no findings' --class errors=0 --class lookups=1/10
fi
if page lint-clean-draft 0 lint --offline --domain x.example --record 'v=spf1 ip4:192.0.2.1 -all'; then
  load lint-clean-draft --class record='v=spf1 ip4:192.0.2.1 -all' --class clean='Clean' \
    --text 'the record costs no lookups'
fi
# --providers FILE names the providers of lint's page (over $SPFCHECK_PROVIDERS)
printf '# a list of one\n_spf.esp.example.net   Example Mail Service\n' >"$tmp/providers.txt"
if page lint-providers 0 lint "${dz[@]}" --providers "$tmp/providers.txt" example.com; then
  load lint-providers --class provider='Example Mail Service' --class record='include:_spf.esp.example.net'
fi
expect lint-providers-text 64 'give --format html' --stderr -- lint "${dz[@]}" --providers "$tmp/providers.txt" example.com
expect lint-providers-missing 64 "cannot read the provider list $tmp/none.txt" --stderr -- \
  lint "${dz[@]}" --format html --providers "$tmp/none.txt" example.com
if page lint-hostile 0 lint "${hz[@]}" hostile.example; then
  load lint-hostile --text '<script>alert(1)</script>' --title hostile.example
fi
# report: per group, volume and SPF results as SVG bars, failing first
if page report 0 report --offline --zone "$td/report.zone" "$td/reports"; then
  load report --class failing=3 --text 'Failing SPF or not aligned today' \
    --class deciding='ip4:198.51.100.0/24' --text 'spfcheck explain 198.51.100.7' \
    --class trace='spfcheck explain 203.0.113.9 postmaster@example.com' \
    --class explain='fail: 203.0.113.9 matched -all in the record of example.com' \
    --class lookups=1/10 --class ttl='TTL 3600' \
    --class explanation='example.com does not designate 203.0.113.9'
  # each source's explain tree behind a click: as many as sources, closed
  rows=$(grep -c '<tr class="why">' "$tmp/report.html")
  trees=$(grep -c '<details class="trace"><summary>' "$tmp/report.html")
  if [ "$rows" -gt 0 ] && [ "$trees" -eq "$rows" ]; then ok "report-trees ($trees)"
  else bad report-trees "$trees trees for $rows sources"; fi
  if [ "$(grep -c '<svg class="bar"' "$tmp/report.html")" -ge 10 ]; then ok report-bars; else bad report-bars "fewer than 10 bars"; fi
  shot report
  shot report dark
fi
if page report-hostile 0 report "${hz[@]}" "$td/html-hostile-report.xml"; then
  load report-hostile --text '<script>alert(1)</script>.hostile.example' \
    --text '"><img src=x onerror=alert(2)>.hostile.example' \
    --class explain='include:<script>alert(1)</script>.hostile.example' \
    --class explanation='"><img src=x onerror=alert(2)> <script>alert(1)</script>' \
    --class answer='"><img.src=x.onerror=alert(3)>.hostile.example -all' --class deciding=-all
  # the trees escape what DNS says, as explain's page does
  for w in 'include:&lt;script&gt;alert(1)&lt;/script&gt;.hostile.example' \
            '&quot;&gt;&lt;img src=x onerror=alert(2)&gt; &lt;script&gt;alert(1)&lt;/script&gt;' \
            'a:&quot;&gt;&lt;img.src=x.onerror=alert(3)&gt;'; do
    if sed -n '/<details class="trace">/,/<\/details><\/td>/p' "$tmp/report-hostile.html" | grep -qF -- "$w"
    then ok "report-hostile-tree-escaped $w"; else bad report-hostile-tree-escaped "no '$w' in a tree"; fi
  done
fi
expect report-html-csv 64 'not with --csv' --stderr -- report --offline --format html --csv "$td/reports"
expect tree-html-networks 64 'not with --networks' --stderr -- tree "${tz[@]}" --format html --networks shop.example.com
expect lint-format-bad 64 "--format must be text or html, not 'dot'" --stderr -- lint "${dz[@]}" --format dot example.com

# what -o and --format html refuse
expect output-no-html 64 'give --format html' --stderr -- explain "${dz[@]}" -o "$tmp/x" 192.0.2.99 a@example.com
expect html-json 64 'not with --json' --stderr -- explain "${dz[@]}" --format html --json 192.0.2.99 a@example.com
expect output-unwritable 73 "cannot write '$tmp/no/such/dir/x.html'" --stderr -- \
  explain "${dz[@]}" --format html -o "$tmp/no/such/dir/x.html" 192.0.2.99 a@example.com
expect format-bad 64 "--format must be text, dot or html, not 'pdf'" --stderr -- explain "${dz[@]}" --format pdf 192.0.2.99 a@example.com
# stdout without -o: the same page
"$bin" explain "${dz[@]}" --format html 192.0.2.99 alice@example.com >"$tmp/stdout.html"
if cmp -s "$tmp/stdout.html" "$tmp/explain.html"; then ok html-stdout; else bad html-stdout "differs from -o FILE"; fi

echo "html: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
