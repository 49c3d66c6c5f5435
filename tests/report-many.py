#!/usr/bin/env python3
"""report-many.py - many reports with many distinct sources for
tests/report.sh (issue 19): `gen DIR` writes DIR/many.zone and
DIR/reports/ (gzip'd and plain XML, in nested folders), DIR/expect,
the CSV rows spfcheck report --csv must print (in any order), and
DIR/summary, the text output's summary line;
`check DIR CSV` compares.  What it checks is the bookkeeping that a
regression in the folding and grouping code would break at scale:
every distinct (IP, envelope domain, From) is one row with the sum of
its records' counts and the reporters' results, the result today (from
the zone's records), its group (the registrable domain of a validated
name, else [IP]) and its alignment.  Deterministic: a fixed seed."""
import csv, gzip, os, random, sys

FILES, PER, SOURCES = 240, 40, 3000
ENVS = ['example.com', 'mail.example.com', 'bounce.esp.example.net']
FROMS = ['example.com', 'news.example.com']


def ip_of(i):
    return f'10.0.{i >> 8}.{i & 255}'


def today(i, env):
    # example.com: ip4:10.0.0.0/22 -all (mail.example.com redirects to it);
    # bounce.esp.example.net: ip4:10.0.8.0/22 ~all
    if env == 'bounce.esp.example.net':
        return 'pass' if 2048 <= i < 3072 else 'softfail'
    return 'pass' if i < 1024 else 'fail'


def gen(d):
    rnd = random.Random(1919)
    with open(f'{d}/many.zone', 'w') as z:
        z.write('$TTL 3600\n')
        z.write('_dmarc.example.com. IN TXT "v=DMARC1; p=reject"\n')
        z.write('example.com. IN TXT "v=spf1 ip4:10.0.0.0/22 -all"\n')
        z.write('mail.example.com. IN TXT "v=spf1 redirect=example.com"\n')
        z.write('bounce.esp.example.net. IN TXT "v=spf1 ip4:10.0.8.0/22 ~all"\n')
        for i in range(SOURCES):
            if i % 3 == 0:
                continue   # no PTR: a group of its own
            name = f'out{i}.relay.sender{i % 40}.example.'
            z.write(f'{name} IN A {ip_of(i)}\n'
                    f'{i & 255}.{i >> 8}.0.10.in-addr.arpa. IN PTR {name}\n')
    exp = {}
    for f in range(FILES):
        recs = []
        for _ in range(PER):
            i = rnd.randrange(SOURCES)
            env, hf = ENVS[i % 3], rnd.choice(FROMS)
            n = rnd.randrange(1, 50)
            rep = rnd.choice(['pass', 'fail'])
            recs.append(
                f'<record><row><source_ip>{ip_of(i)}</source_ip><count>{n}</count>'
                '<policy_evaluated><disposition>none</disposition><dkim>pass</dkim>'
                f'<spf>{rep}</spf></policy_evaluated></row><identifiers>'
                f'<header_from>{hf}</header_from><envelope_from>{env}</envelope_from>'
                '</identifiers><auth_results><spf><domain>' + env + '</domain>'
                f'<scope>mfrom</scope><result>{rep}</result></spf></auth_results></record>\n')
            e = exp.setdefault((ip_of(i), env, hf), {'i': i, 'n': 0, 'pass': 0, 'fail': 0})
            e['n'] += n
            e[rep] += n
        xml = ('<?xml version="1.0"?>\n<feedback><report_metadata><org_name>gen'
               f'{f % 7}</org_name><email>dmarc@gen{f % 7}.example</email>'
               f'<report_id>{f}</report_id><date_range><begin>1796083200</begin>'
               '<end>1796169599</end></date_range></report_metadata><policy_published>'
               '<domain>example.com</domain><p>reject</p></policy_published>\n'
               + ''.join(recs) + '</feedback>\n')
        sub = f'{d}/reports/{f % 4}'
        os.makedirs(sub, exist_ok=True)
        if f % 2:
            with gzip.open(f'{sub}/r{f:04d}.xml.gz', 'wt') as g:
                g.write(xml)
        else:
            with open(f'{sub}/r{f:04d}.xml', 'w') as x:
                x.write(xml)
    groups = {f'[{ip}]' if e['i'] % 3 == 0 else f"sender{e['i'] % 40}.example"
              for (ip, _, _), e in exp.items()}
    with open(f'{d}/summary', 'w') as out:
        out.write(f"{FILES} reports, {FILES * PER} records, "
                  f"{sum(e['n'] for e in exp.values())} messages, 2026-12-01 00:00 .. "
                  f"2026-12-01 23:59 UTC; {len(exp)} sources in {len(groups)} groups\n")
    with open(f'{d}/expect', 'w') as out:
        w = csv.writer(out, lineterminator='\n')
        for (ip, env, hf), e in sorted(exp.items()):
            i = e['i']
            ptr = '' if i % 3 == 0 else f'out{i}.relay.sender{i % 40}.example'
            grp = f'[{ip}]' if i % 3 == 0 else f'sender{i % 40}.example'
            rep = ' '.join(f'{r}={e[r]}' for r in ('pass', 'fail') if e[r])
            aligned = 'no' if env == 'bounce.esp.example.net' else 'yes'
            w.writerow([grp, ip, ptr, env, hf, e['n'], rep, today(i, env), aligned])


def check(d, got_file):
    with open(f'{d}/expect') as f:
        want = sorted(tuple(r) for r in csv.reader(f))
    with open(got_file) as f:
        rows = list(csv.reader(f))
    head = rows[0]
    cols = [head.index(c) for c in ('group', 'source_ip', 'ptr', 'envelope_domain',
            'header_from', 'messages', 'reported_spf', 'today', 'aligned')]
    got = sorted(tuple(r[c] for c in cols) for r in rows[1:])
    if got == want:
        print(f'{len(got)} sources as expected')
        return 0
    ws, gs = set(want), set(got)
    print(f'{len(got)} rows, {len(want)} expected; missing {sorted(ws - gs)[:3]}; '
          f'unexpected {sorted(gs - ws)[:3]}')
    return 1


if __name__ == '__main__':
    if sys.argv[1] == 'gen':
        gen(sys.argv[2])
    else:
        sys.exit(check(sys.argv[2], sys.argv[3]))
