#!/usr/bin/env python3
"""batch-from-gen.py - the zone, the input and the expected output of
tests/batch-from.sh: N generated lines of spfcheck batch with a FROM
column (issue 16) in ten kinds whose output line the generator knows by
construction (written here from RFC 7208 and RFC 9989, not from
spfcheck's output): SPF aligned relaxed and strict, another
organisation's MAIL FROM, no DMARC record, np for a subdomain that does
not exist, sp for one that does, t=y, the null sender (postmaster@HELO),
HELO "-", and lines without FROM (ten fields, as before FROM existed).
Every 50th line has a FROM without a domain (an error line in place),
with comments and blank lines between.

usage: batch-from-gen.py N DIR  ->  DIR/from.zone DIR/from.in DIR/from.tsv
"""
import os
import sys

ESP = "esp.example"         # a sending service: another organisation
BAD_FROM = ["user@", "@", "x@b..c", "<>"]
NO_DOMAIN = "the FROM field has no domain (give ADDRESS or DOMAIN)"


def kind(i, zone):
    """The zone records of line number i: (input fields, expected fields)."""
    k = i % 10
    ip = "192.0.2.%d" % (i % 250 + 1)
    esp_ip = "198.51.100.%d" % (i % 250 + 1)

    def txt(name, text):
        zone.append('%s. 300 IN TXT "%s"' % (name, text))

    def spf_pass(dom, addr):
        txt(dom, "v=spf1 ip4:%s -all" % addr)
        return ["pass", "ip4:" + addr, dom, "0", "0", "-", "-"]

    if k == 0:      # aligned, the same name: pass
        d = "d%03d.example" % i
        txt("_dmarc." + d, "v=DMARC1; p=reject")
        spf = spf_pass(d, ip)
        return ([ip, "bounce@" + d, "mx." + d, "alice@" + d],
                [ip, "bounce@" + d] + spf + ["dmarc=pass aligned=yes policy=reject"])
    if k == 1:      # relaxed: MAIL FROM in a subdomain, the same org
        o = "o%03d.example" % i
        txt("_dmarc." + o, "v=DMARC1; p=quarantine")
        spf = spf_pass("mail." + o, ip)
        return ([ip, "bounce@mail." + o, "-", "<news@%s>" % o.upper()],
                [ip, "bounce@mail." + o] + spf +
                ["dmarc=pass aligned=yes policy=quarantine"])
    if k == 2:      # another organisation's MAIL FROM: SPF passes unaligned
        d = "e%03d.example" % i
        txt("_dmarc." + d, "v=DMARC1; p=reject")
        spf = ["pass", "ip4:198.51.100.0/24", ESP, "0", "0", "-", "-"]
        return ([esp_ip, "b%d@%s" % (i, ESP), "out." + ESP, "ceo@" + d],
                [esp_ip, "b%d@%s" % (i, ESP)] + spf +
                ["dmarc=unknown aligned=no policy=reject"])
    if k == 3:      # aspf=s: a subdomain does not align strictly
        s = "s%03d.example" % i
        txt("_dmarc." + s, "v=DMARC1; p=reject; aspf=s")
        spf = spf_pass("mail." + s, ip)
        return ([ip, "bounce@mail." + s, "-", s],
                [ip, "bounce@mail." + s] + spf +
                ["dmarc=unknown aligned=no policy=reject"])
    if k == 4:      # no DMARC record anywhere on the walk
        n = "n%03d.example" % i
        spf = spf_pass(n, ip)
        return ([ip, "bounce@" + n, "-", "a@" + n],
                [ip, "bounce@" + n] + spf + ["dmarc=none aligned=yes policy=-"])
    if k == 5:      # a From subdomain that does not exist: np
        p = "p%03d.example" % i
        txt("_dmarc." + p, "v=DMARC1; p=quarantine; sp=none; np=reject")
        spf = ["pass", "ip4:198.51.100.0/24", ESP, "0", "0", "-", "-"]
        return ([esp_ip, "b%d@%s" % (i, ESP), "-", "x@nx." + p],
                [esp_ip, "b%d@%s" % (i, ESP)] + spf +
                ["dmarc=unknown aligned=no policy=reject"])
    if k == 6:      # a From subdomain that exists: sp
        p = "q%03d.example" % i
        txt("_dmarc." + p, "v=DMARC1; p=quarantine; sp=none; np=reject")
        zone.append("www.%s. 300 IN A %s" % (p, ip))
        spf = ["pass", "ip4:198.51.100.0/24", ESP, "0", "0", "-", "-"]
        return ([esp_ip, "b%d@%s" % (i, ESP), "-", "x@www." + p],
                [esp_ip, "b%d@%s" % (i, ESP)] + spf +
                ["dmarc=unknown aligned=no policy=none"])
    if k == 7:      # SPF softfail; t=y lowers reject to quarantine
        t = "t%03d.example" % i
        txt(t, "v=spf1 ip4:%s ~all" % esp_ip)
        txt("_dmarc." + t, "v=DMARC1; p=reject; t=y")
        return ([ip, "bounce@" + t, "-", "a@" + t],
                [ip, "bounce@" + t, "softfail", "~all", t, "0", "0", "-", "-",
                 "dmarc=unknown aligned=no policy=quarantine"])
    if k == 8:      # the null sender: postmaster@HELO is the SPF leg
        h = "h%03d.example" % i
        txt("_dmarc." + h, "v=DMARC1; p=reject")
        spf = spf_pass("mail." + h, ip)
        return ([ip, '""', "mail." + h, "a@" + h],
                [ip, "<>"] + spf + ["dmarc=pass aligned=yes policy=reject"])
    # k == 9: no FROM: the ten fields of before
    d = "w%03d.example" % i
    txt("_dmarc." + d, "v=DMARC1; p=reject")
    spf = spf_pass(d, ip)
    return ([ip, "bounce@" + d, "mx." + d], [ip, "bounce@" + d] + spf)


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    zone = ["$TTL 300",
            '%s. 300 IN TXT "v=spf1 ip4:198.51.100.0/24 -all"' % ESP]
    lines, expected = ["# generated by batch-from-gen.py", ""], []
    lineno = 2
    for i in range(n):
        if i % 50 == 25:    # a FROM without a domain, in its place
            lineno += 1
            ip = "192.0.2.%d" % (i % 250 + 1)
            bad = BAD_FROM[(i // 50) % len(BAD_FROM)]
            lines.append("%s bad%d@example.org - %s" % (ip, i, bad))
            why = NO_DOMAIN if bad != "x@b..c" else \
                "the FROM field: 'b..c' is not a domain name"
            expected.append([str(lineno), ip, "bad%d@example.org" % i, "error",
                             "-", "-", "-", "-", "-", why])
        if i % 37 == 36:
            lines.append("# a comment")
            lineno += 1
        fields, want = kind(i, zone)
        lineno += 1
        lines.append("\t".join(fields) if i % 3 == 0 else " ".join(fields))
        expected.append([str(lineno)] + want)
    with open(os.path.join(out, "from.zone"), "w") as f:
        f.write("\n".join(zone) + "\n")
    with open(os.path.join(out, "from.in"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "from.tsv"), "w") as f:
        f.write("".join("\t".join(e) + "\n" for e in expected))


if __name__ == "__main__":
    main()
